import {
  AttributeIds, DataType, makeBrowsePath, NodeClass, NodeId, resolveNodeId, StatusCodes, type ClientSession, type DataValue,
} from 'node-opcua';
import type { OpcuaNodeMapping } from './opcua-config.js';

/**
 * Before anything is monitored, each mapped node is found and checked on the server:
 * it exists, it is a Variable, its DataType is a number or a Boolean, it is a scalar,
 * and this user may read it. A node that fails gets one clear reason and is left out;
 * the others go on (issue #6: "a node that does not exist or has the wrong type").
 */

export interface ResolvedNode {
  mapping: OpcuaNodeMapping;
  nodeId: NodeId;
  /** Canonical text of the NodeId, as envelopes and messages carry it. */
  nodeIdText: string;
}

export interface NodeFailure {
  mapping: OpcuaNodeMapping;
  reason: string;
}

/** ns=0 DataTypes whose values are numbers: the built-ins, their abstract parents and Duration. */
const NUMERIC_TYPES = new Map<number, string>([
  [2, 'SByte'], [3, 'Byte'], [4, 'Int16'], [5, 'UInt16'], [6, 'Int32'], [7, 'UInt32'], [8, 'Int64'], [9, 'UInt64'],
  [10, 'Float'], [11, 'Double'], [26, 'Number'], [27, 'Integer'], [28, 'UInteger'], [290, 'Duration'],
]);
const BOOLEAN_TYPE = 1;
/** BaseDataType: the server promises nothing; each value is checked by the worker. */
const ANY_TYPE = 24;
const CURRENT_READ = 0x01;
/**
 * Operations per request. Servers cap them (OperationLimits MaxNodesPerRead and
 * MaxNodesPerTranslateBrowsePathsToNodeIds, often a few hundred on PLCs), and a request
 * over the cap fails as a whole, so large mappings go in slices every server takes.
 */
export const OPERATIONS_PER_REQUEST = 100;

export async function inSlices<T, R>(items: readonly T[], work: (slice: T[]) => Promise<R[]>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += OPERATIONS_PER_REQUEST) {
    results.push(...(await work(items.slice(start, start + OPERATIONS_PER_REQUEST))));
  }
  return results;
}
/** ValueRank Scalar (-1), Any (-2), ScalarOrOneDimension (-3); 0 and up are arrays. */
const SCALAR_RANKS = new Set([-1, -2, -3]);

function statusText(dataValue: DataValue | undefined): string {
  return dataValue?.statusCode.toString() ?? 'no answer';
}

function typeProblem(mapping: OpcuaNodeMapping, dataType: unknown): string | undefined {
  if (!(dataType instanceof NodeId) || dataType.namespace !== 0 || typeof dataType.value !== 'number') {
    return `has DataType ${String(dataType)}, not a number or Boolean`;
  }
  if (dataType.value === BOOLEAN_TYPE) {
    return mapping.metricKind === 'state' ? undefined : `is a Boolean; map it to a state metric (0/1) such as breaker_closed, not ${mapping.metric} (a ${mapping.metricKind})`;
  }
  if (NUMERIC_TYPES.has(dataType.value) || dataType.value === ANY_TYPE) return undefined;
  return `has DataType ${DataType[dataType.value] ?? dataType.toString()}, not a number or Boolean`;
}

async function nodeIdsOf(session: ClientSession, mappings: readonly OpcuaNodeMapping[], failed: NodeFailure[]): Promise<Map<OpcuaNodeMapping, NodeId>> {
  const found = new Map<OpcuaNodeMapping, NodeId>();
  const byPath = mappings.filter((mapping) => mapping.browsePath !== undefined);
  if (byPath.length > 0) {
    const results = await inSlices(byPath, (slice) => session.translateBrowsePath(slice.map((mapping) => makeBrowsePath('RootFolder', mapping.browsePath!))));
    results.forEach((result, index) => {
      const mapping = byPath[index]!;
      const target = result.targets?.[0]?.targetId;
      if (result.statusCode.isGood() && target !== undefined) found.set(mapping, new NodeId(target.identifierType, target.value, target.namespace));
      else failed.push({ mapping, reason: `browse path not found on the server (${result.statusCode.toString()})` });
    });
  }
  const expanded = mappings.filter((mapping) => mapping.nodeId?.startsWith('nsu=') === true);
  const namespaces = expanded.length > 0 ? await session.readNamespaceArray() : [];
  for (const mapping of mappings.filter((candidate) => candidate.nodeId !== undefined)) {
    const text = mapping.nodeId!;
    if (!text.startsWith('nsu=')) {
      found.set(mapping, resolveNodeId(text));
      continue;
    }
    const [uriPart, ...rest] = text.split(';');
    const index = namespaces.indexOf(uriPart!.slice(4));
    if (index < 0) failed.push({ mapping, reason: `the server has no namespace "${uriPart!.slice(4)}"` });
    else found.set(mapping, resolveNodeId(`ns=${index};${rest.join(';')}`));
  }
  return found;
}

export async function resolveNodes(session: ClientSession, mappings: readonly OpcuaNodeMapping[]): Promise<{ resolved: ResolvedNode[]; failed: NodeFailure[] }> {
  const failed: NodeFailure[] = [];
  const nodeIds = await nodeIdsOf(session, mappings, failed);
  const candidates = [...nodeIds];
  const attributes = [AttributeIds.NodeClass, AttributeIds.DataType, AttributeIds.ValueRank, AttributeIds.UserAccessLevel];
  const answers = await inSlices(candidates.flatMap(([, nodeId]) => attributes.map((attributeId) => ({ nodeId, attributeId }))), (slice) => session.read(slice));
  const resolved: ResolvedNode[] = [];
  candidates.forEach(([mapping, nodeId], index) => {
    const [nodeClass, dataType, valueRank, access] = answers.slice(index * attributes.length, (index + 1) * attributes.length);
    const fail = (reason: string) => failed.push({ mapping, reason });
    if (nodeClass?.statusCode.equals(StatusCodes.BadNodeIdUnknown)) return fail(`${nodeId.toString()} does not exist on the server (BadNodeIdUnknown)`);
    if (!nodeClass?.statusCode.isGood()) return fail(`${nodeId.toString()} cannot be read (${statusText(nodeClass)})`);
    if (nodeClass.value.value !== NodeClass.Variable) return fail(`${nodeId.toString()} is ${NodeClass[nodeClass.value.value as number] ?? 'not'} a Variable; map variables only`);
    const typeIssue = typeProblem(mapping, dataType?.value.value);
    if (typeIssue !== undefined) return fail(`${nodeId.toString()} ${typeIssue}`);
    const rank = valueRank?.value.value as number | undefined;
    if (rank !== undefined && !SCALAR_RANKS.has(rank)) return fail(`${nodeId.toString()} is an array (ValueRank ${rank}); map scalar variables only`);
    if (access?.statusCode.isGood() && (Number(access.value.value) & CURRENT_READ) === 0) return fail(`${nodeId.toString()} may not be read by this user (UserAccessLevel)`);
    resolved.push({ mapping, nodeId, nodeIdText: nodeId.toString() });
  });
  return { resolved, failed };
}
