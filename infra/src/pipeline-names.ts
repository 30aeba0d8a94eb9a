/**
 * The physical names of the pipeline's resources, from `namePrefix`: the stacks create them under these names, and
 * the alarms and the dashboard find their metrics by them (plain strings: the Ops stack imports nothing, so the
 * other stacks stay free to change). `ops.stack.spec.ts` checks every name against the synthesized resources.
 */
export function pipelineNames(namePrefix: string) {
  return {
    deliveryStream: `${namePrefix}-ticks`,
    rawObjectsQueue: `${namePrefix}-raw-objects`,
    rawObjectsDeadLetterQueue: `${namePrefix}-raw-objects-dlq`,
    backupFunction: `${namePrefix}-backup`,
    extractorCluster: `${namePrefix}-extractor`,
    extractorService: `${namePrefix}-extractor`,
    compactorFunction: `${namePrefix}-compactor`,
    alarmTopic: `${namePrefix}-alarms`,
    dashboard: `${namePrefix}-pipeline`,
  } as const;
}

export type PipelineNames = ReturnType<typeof pipelineNames>;
