import type { Priority, PriorityLevel } from '../../core/work-item.ts';
import { lookupByName } from './status.ts';

/** Jira's default scheme (Highest…Lowest), the older one (Blocker…Trivial) and P0–P4. */
const LEVELS: Readonly<Record<string, PriorityLevel>> = {
  highest: 'urgent',
  blocker: 'urgent',
  critical: 'urgent',
  p0: 'urgent',
  high: 'high',
  major: 'high',
  p1: 'high',
  medium: 'medium',
  normal: 'medium',
  p2: 'medium',
  low: 'low',
  minor: 'low',
  p3: 'low',
  lowest: 'none',
  trivial: 'none',
  p4: 'none',
};

/** The priority of a Jira issue: the connection's rules, then the built-in names; unknown names are `none`. */
export function mapJiraPriority(name: string | undefined, rules: Readonly<Record<string, PriorityLevel>> = {}): Priority {
  if (!name) return { level: 'none' };
  const level = lookupByName(rules, name) ?? LEVELS[name.trim().toLowerCase()] ?? 'none';
  return { name, level };
}
