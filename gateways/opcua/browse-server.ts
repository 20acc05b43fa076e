import {
  AttributeIds, browseAll, BrowseDirection, DataType, makeBrowsePath, NodeClass, NodeClassMask, NodeId, ObjectIds,
  ReferenceTypeIds, resolveNodeId, type ClientSession, type QualifiedName,
} from 'node-opcua';
import { inSlices } from './resolve-nodes.js';

/**
 * Walks a server's address space below a folder and lists its variables with what a
 * mapping needs: NodeId, browse path, DataType, rank, engineering unit and current
 * value. Used by `npm run opcua:browse` (browse-cli.ts) to print a starting mapping.
 */

export interface BrowsedVariable {
  /** Browse path from the Root folder, in the mapping's syntax: `/Objects/1:Plant/1:Pump1/1:Flow`. */
  browsePath: string;
  nodeId: string;
  /** Browse names of the objects above it, below the starting folder: a device candidate. */
  parents: string[];
  name: string;
  dataType: string;
  valueRank: number;
  /** EngineeringUnits display name (AnalogItemType), when the variable has one. */
  unit?: string;
  value?: string;
}

export interface BrowseOptions {
  /** Where to start, as a browse path from Root. @defaultValue '/Objects' */
  root: string;
  /** Levels below `root`. @defaultValue 6 */
  maxDepth: number;
  /** Stop after this many variables. @defaultValue 2000 */
  maxVariables: number;
}

/** BNF reserved characters of a relative path element (Part 4 §A.2) are escaped with '&'. */
function pathElement(name: QualifiedName): string {
  const text = (name.name ?? '').replace(/[&/.<>:#!]/g, (character) => `&${character}`);
  return name.namespaceIndex === 0 ? text : `${name.namespaceIndex}:${text}`;
}

async function startNode(session: ClientSession, root: string): Promise<NodeId> {
  if (root === '/Objects' || root === '') return resolveNodeId(ObjectIds.ObjectsFolder);
  const [result] = await session.translateBrowsePath([makeBrowsePath('RootFolder', root)]);
  const target = result?.targets?.[0]?.targetId;
  if (!result?.statusCode.isGood() || target === undefined) throw new Error(`browse path ${root} not found (${result?.statusCode.toString() ?? 'no answer'})`);
  return new NodeId(target.identifierType, target.value, target.namespace);
}

export async function browseVariables(session: ClientSession, options: BrowseOptions): Promise<BrowsedVariable[]> {
  const found: Array<Omit<BrowsedVariable, 'dataType' | 'valueRank'> & { id: NodeId }> = [];
  const seen = new Set<string>();
  let level = [{ id: await startNode(session, options.root), path: options.root === '' ? '/Objects' : options.root, parents: [] as string[] }];
  for (let depth = 0; depth < options.maxDepth && level.length > 0 && found.length < options.maxVariables; depth += 1) {
    const results = await inSlices(level, (slice) => browseAll(session, slice.map(({ id }) => ({
      nodeId: id, browseDirection: BrowseDirection.Forward, referenceTypeId: ReferenceTypeIds.HierarchicalReferences,
      includeSubtypes: true, nodeClassMask: NodeClassMask.Object | NodeClassMask.Variable, resultMask: 0x3f,
    }))));
    const next: typeof level = [];
    results.forEach((result, index) => {
      const parent = level[index]!;
      for (const reference of result.references ?? []) {
        const id = new NodeId(reference.nodeId.identifierType, reference.nodeId.value, reference.nodeId.namespace);
        // Properties (EURange, EngineeringUnits) describe a variable; they are not readings.
        if (seen.has(id.toString()) || reference.referenceTypeId.value === ReferenceTypeIds.HasProperty) continue;
        // The server's own diagnostics object is large and never sensor data.
        if (id.namespace === 0 && id.value === ObjectIds.Server) continue;
        seen.add(id.toString());
        const name = reference.browseName.name ?? '';
        const path = `${parent.path}/${pathElement(reference.browseName)}`;
        if (reference.nodeClass === NodeClass.Variable) found.push({ id, nodeId: id.toString(), browsePath: path, parents: parent.parents, name });
        else next.push({ id, path, parents: [...parent.parents, name] });
      }
    });
    level = next;
  }
  const variables = found.slice(0, options.maxVariables);
  if (variables.length === 0) return [];
  const answers = await inSlices(variables.flatMap(({ id }) => [
    { nodeId: id, attributeId: AttributeIds.DataType }, { nodeId: id, attributeId: AttributeIds.ValueRank }, { nodeId: id, attributeId: AttributeIds.Value },
  ]), (slice) => session.read(slice));
  const units = await engineeringUnits(session, variables.map(({ id }) => id));
  return variables.map(({ id: _id, ...variable }, index) => {
    const [dataType, valueRank, value] = answers.slice(index * 3, index * 3 + 3);
    const typeId = dataType?.value.value as NodeId | undefined;
    const typeName = typeId instanceof NodeId && typeId.namespace === 0 && typeof typeId.value === 'number' ? DataType[typeId.value] : undefined;
    const unit = units[index];
    return {
      ...variable,
      dataType: typeName ?? (typeId?.toString() ?? 'unknown'),
      valueRank: Number(valueRank?.value.value ?? -1),
      ...(unit === undefined ? {} : { unit }),
      ...(value?.statusCode.isGood() ? { value: String(value.value.value).slice(0, 40) } : {}),
    };
  });
}

/** The display name of each variable's EngineeringUnits property, where it has one. */
async function engineeringUnits(session: ClientSession, ids: readonly NodeId[]): Promise<(string | undefined)[]> {
  const paths = await inSlices(ids, (slice) => session.translateBrowsePath(slice.map((id) => ({
    startingNode: id,
    relativePath: { elements: [{ referenceTypeId: ReferenceTypeIds.HasProperty, isInverse: false, includeSubtypes: true, targetName: { namespaceIndex: 0, name: 'EngineeringUnits' } }] },
  }))));
  const targets = paths.map((result) => result.targets?.[0]?.targetId);
  const present = targets.flatMap((target, index) => (target === undefined ? [] : [{ index, id: new NodeId(target.identifierType, target.value, target.namespace) }]));
  const units: (string | undefined)[] = ids.map(() => undefined);
  if (present.length === 0) return units;
  const values = await inSlices(present, (slice) => session.read(slice.map(({ id }) => ({ nodeId: id, attributeId: AttributeIds.Value }))));
  present.forEach(({ index }, position) => {
    const information = values[position]?.value.value as { displayName?: { text?: string | null } } | null | undefined;
    const text = information?.displayName?.text ?? undefined;
    if (text !== undefined && text !== null && text !== '') units[index] = text;
  });
  return units;
}
