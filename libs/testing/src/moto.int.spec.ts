import { describe, expect, inject, it } from 'vitest';

describe('moto global setup', () => {
  it('exposes a running moto endpoint to every test file', async () => {
    const endpoint = inject('motoEndpoint');
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpoint);
    const created = await fetch(`${endpoint}/global-setup-probe`, { method: 'PUT' });
    expect(created.status).toBe(200);
    const listing = await (await fetch(`${endpoint}/`)).text();
    expect(listing).toContain('<Name>global-setup-probe</Name>');
  });
});
