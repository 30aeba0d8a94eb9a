// Preloaded (`node --import`) into the compactor CLI by the e2e harness to run it "hours later": Date.now() moves by
// E2E_CLOCK_SHIFT_MS. moto's Firehose names objects by its own clock, so a record arriving hours late is emulated by
// re-keying its object under a later arrival hour; the compactor's next run then has to happen at that later time too.
const shift = Number(process.env.E2E_CLOCK_SHIFT_MS ?? '0');
if (!Number.isFinite(shift)) throw new Error(`E2E_CLOCK_SHIFT_MS is not a number: ${process.env.E2E_CLOCK_SHIFT_MS}`);
if (shift !== 0) {
  const realNow = Date.now;
  Date.now = () => realNow() + shift;
}
