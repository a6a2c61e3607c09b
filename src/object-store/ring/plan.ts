// The replica plan a rebalance works to: the tree of failure domains (region > zone >
// server > device) over the devices that take partitions, and for each tier how many
// replicas of a partition it should hold (its weight's share, no device holding more than
// one), the most any one partition may put there, and how many partition-replicas it should
// hold in all.
import { regionOf, serverOf, zoneOf } from './ring-data.ts';
import type { RingDevice } from './types.ts';

export interface TierNode {
  /** 'r1', 'r1z2', 'r1z2-10.0.0.1:6200' or 'd<id>' */
  key: string;
  children: TierNode[];
  /** set on devices (the leaves) */
  deviceId?: number;
  deviceCount: number;
  /** replicanths of every partition this tier should hold, by weight */
  target: number;
  /** the most replicas of one partition this tier may hold: ceil(target) */
  max: number;
  /** partition-replicas this tier should hold in all; integers that add up at every level */
  quota: number;
}

export interface ReplicaPlan {
  root: TierNode;
  byKey: Map<string, TierNode>;
  /** device id → its leaf */
  leaves: Map<number, TierNode>;
}

const EPSILON = 1e-9;

export const deviceKey = (id: number) => `d${id}`;

/** A device's tier keys, widest first, ending with the device itself. */
export function tierKeys(dev: RingDevice): [string, string, string, string] {
  return [regionOf(dev), zoneOf(dev), serverOf(dev), deviceKey(dev.id)];
}

/** `devices` are those that take partitions: present, not being removed, weight > 0. */
export function buildReplicaPlan(devices: readonly RingDevice[], replicas: number, parts: number): ReplicaPlan {
  const share = weightedReplicanths(devices, replicas);
  const root = buildTree(devices, (leaf, dev) => {
    leaf.target = share.get(dev.id)!;
  });
  const byKey = new Map<string, TierNode>();
  const leaves = new Map<number, TierNode>();
  const finish = (node: TierNode): void => {
    byKey.set(node.key, node);
    if (node.deviceId !== undefined) leaves.set(node.deviceId, node);
    for (const child of node.children) finish(child);
    if (node.children.length > 0) node.target = node.children.reduce((sum, c) => sum + c.target, 0);
    node.max = Math.min(Math.ceil(node.target - EPSILON), node.deviceCount);
  };
  finish(root);
  root.max = replicas;
  root.quota = replicas * parts;
  distributeQuota(root, parts);
  return { root, byKey, leaves };
}

/**
 * The most replicas of one partition each tier could hold if replicas were spread as evenly
 * as the topology allows, whatever the weights (swift-ring-builder's dispersion yardstick).
 */
export function topologyMax(devices: readonly RingDevice[], replicas: number): Map<string, number> {
  const max = new Map<string, number>();
  const walk = (node: TierNode, allowed: number): void => {
    max.set(node.key, node.deviceId !== undefined ? Math.min(1, allowed) : allowed);
    for (const child of node.children) walk(child, Math.ceil(allowed / node.children.length));
  };
  walk(buildTree(devices, () => {}), replicas);
  return max;
}

/**
 * Each device's share of every partition's replicas, by weight; a device can hold at most
 * one replica of a partition, so what a heavy device cannot take goes to the others.
 */
function weightedReplicanths(devices: readonly RingDevice[], replicas: number): Map<number, number> {
  const total = devices.reduce((sum, d) => sum + d.weight, 0);
  const share = new Map(devices.map((d) => [d.id, Math.min(1, (d.weight * replicas) / total)]));
  for (let round = 0; round <= devices.length; round++) {
    const remaining = replicas - [...share.values()].reduce((a, b) => a + b, 0);
    if (remaining < EPSILON) break;
    const open = devices.filter((d) => share.get(d.id)! < 1);
    const openSum = open.reduce((sum, d) => sum + share.get(d.id)!, 0);
    for (const d of open) share.set(d.id, Math.min(1, share.get(d.id)! * (1 + remaining / openSum)));
  }
  return share;
}

function buildTree(devices: readonly RingDevice[], onLeaf: (leaf: TierNode, dev: RingDevice) => void): TierNode {
  const node = (key: string): TierNode => ({ key, children: [], deviceCount: 0, target: 0, max: 0, quota: 0 });
  const root = node('');
  const index = new Map<string, TierNode>();
  const sorted = [...devices].sort((a, b) => a.region - b.region || a.zone - b.zone || cmp(serverOf(a), serverOf(b)) || a.id - b.id);
  for (const dev of sorted) {
    let parent = root;
    parent.deviceCount++;
    for (const key of tierKeys(dev)) {
      let child = index.get(key);
      if (!child) {
        child = node(key);
        index.set(key, child);
        parent.children.push(child);
      }
      child.deviceCount++;
      parent = child;
    }
    parent.deviceId = dev.id;
    onLeaf(parent, dev);
  }
  return root;
}

/**
 * Splits a tier's quota among its children: each gets the floor of its exact share, and
 * what rounding leaves goes to the largest remainders, so every level adds up exactly.
 */
function distributeQuota(node: TierNode, parts: number): void {
  const kids = node.children;
  if (kids.length === 0) return;
  const exact = kids.map((c) => c.target * parts);
  kids.forEach((c, i) => (c.quota = Math.min(Math.floor(exact[i]! + EPSILON), c.deviceCount * parts)));
  let left = node.quota - kids.reduce((sum, c) => sum + c.quota, 0);
  const byRemainder = kids.map((c, i) => ({ c, rest: exact[i]! - c.quota })).sort((a, b) => b.rest - a.rest || cmp(a.c.key, b.c.key));
  while (left !== 0) {
    let changed = false;
    for (const { c } of left > 0 ? byRemainder : [...byRemainder].reverse()) {
      if (left > 0 && c.quota < c.deviceCount * parts) {
        c.quota++;
        left--;
        changed = true;
      } else if (left < 0 && c.quota > 0) {
        c.quota--;
        left++;
        changed = true;
      }
      if (left === 0) break;
    }
    if (!changed) throw new Error(`replica plan: cannot split ${node.quota} partition-replicas under '${node.key}'`);
  }
  for (const c of kids) distributeQuota(c, parts);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
