import type { Priority, PriorityLevel } from '../../core/work-item.ts';

const LEVEL_WORDS: Readonly<Record<string, PriorityLevel>> = {
  urgent: 'urgent',
  critical: 'urgent',
  blocker: 'urgent',
  highest: 'urgent',
  high: 'high',
  medium: 'medium',
  normal: 'medium',
  low: 'low',
  lowest: 'low',
  p0: 'urgent',
  p1: 'high',
  p2: 'medium',
  p3: 'low',
  p4: 'low',
};

/** Strongest first, to pick one level when several labels match. */
const RANK: readonly PriorityLevel[] = ['urgent', 'high', 'medium', 'low', 'none'];

/** `priority: high`, `priority/high`, `Priority-High`, `P1`, `high priority`, `critical`, `urgent`. */
const PRIORITY_LABEL =
  /^(?:(?:priority|prio|pri)\s*(?:[:/_-]\s*)?(\w+)|(p[0-4])|(critical|urgent)|(urgent|high|medium|low)[\s_-]+priority)$/i;

/** The level a label names, or undefined for labels that are not about priority. */
export function levelOfPriorityLabel(label: string): PriorityLevel | undefined {
  const match = PRIORITY_LABEL.exec(label.trim());
  if (!match) return undefined;
  const word = (match[1] ?? match[2] ?? match[3] ?? match[4] ?? '').toLowerCase();
  return LEVEL_WORDS[word];
}

/**
 * The priority of a GitHub item, from its labels (GitHub has no priority field). When several
 * labels name a priority, the most urgent wins; `name` is that label as written.
 */
export function mapPriority(labels: readonly string[]): Priority {
  let best: Priority = { level: 'none' };
  for (const label of labels) {
    const level = levelOfPriorityLabel(label);
    if (level && RANK.indexOf(level) < RANK.indexOf(best.level)) best = { name: label, level };
  }
  return best;
}
