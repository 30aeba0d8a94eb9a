import { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { InfraError } from '../infra.errors';

/**
 * Keep the CloudFormation logical id a resource had before it moved into a construct. Named resources (buckets,
 * queues, the delivery stream, Glue tables) cannot be replaced in place: a new logical id would make CloudFormation
 * create a second resource of the same name, which fails, on every stack deployed before the move.
 * @param construct an L1 (`CfnResource`) or an L2 whose `node.defaultChild` is the L1
 */
export function keepLogicalId(construct: IConstruct, logicalId: string): void {
  const element = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(element instanceof CfnElement)) throw new InfraError(`${construct.node.path} has no CloudFormation resource`);
  element.overrideLogicalId(logicalId);
}
