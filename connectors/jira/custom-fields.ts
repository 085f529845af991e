import { Category } from '../../core/work-item.ts';
import { parseJiraTime } from './dates.ts';
import type { CustomFieldTarget } from './settings.ts';

/** What the connection's custom field mapping and sprint detection read from an issue's fields. */
export interface CustomFieldValues {
  storyPoints?: number;
  team?: string;
  plannedStartAt?: string;
  category?: Category;
  epicLink?: string;
  sprint?: string;
}

/** A select option `{value}`, a Cloud team `{name}`/`{title}`, a string, or the first of a list. */
const textOf = (value: unknown): string | undefined => {
  if (Array.isArray(value)) return textOf(value[0]);
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const field of ['value', 'name', 'title', 'key']) {
      if (typeof record[field] === 'string' && record[field]) return record[field] as string;
    }
  }
  return undefined;
};

const numberOf = (value: unknown): number | undefined => {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : undefined;
};

interface SprintCandidate {
  name: string;
  state: string;
}

/** Data Center writes sprints as `com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=3,state=ACTIVE,name=Sprint 4,…]`. */
const GREENHOPPER_SPRINT = /^com\.atlassian\.greenhopper\.service\.sprint\.Sprint@\w*\[(.*)\]$/;

const sprintOf = (entry: unknown): SprintCandidate | undefined => {
  if (typeof entry === 'string') {
    const match = GREENHOPPER_SPRINT.exec(entry);
    if (!match) return undefined;
    const name = /(?:^|,)name=([^,]*)/.exec(match[1]!)?.[1];
    const state = /(?:^|,)state=([^,]*)/.exec(match[1]!)?.[1] ?? '';
    return name ? { name, state: state.toLowerCase() } : undefined;
  }
  if (entry && typeof entry === 'object') {
    const record = entry as Record<string, unknown>;
    const isSprint = typeof record.name === 'string' && typeof record.state === 'string' && ('boardId' in record || 'originBoardId' in record);
    return isSprint ? { name: record.name as string, state: (record.state as string).toLowerCase() } : undefined;
  }
  return undefined;
};

/** The sprint an issue is planned in: the active one, else the first future one, else the last one it was in. */
const currentSprint = (value: unknown): string | undefined => {
  if (!Array.isArray(value)) return undefined;
  const sprints = value.map(sprintOf);
  if (sprints.length === 0 || sprints.some((s) => s === undefined)) return undefined;
  const known = sprints as SprintCandidate[];
  return (known.find((s) => s.state === 'active') ?? known.find((s) => s.state === 'future') ?? known.at(-1))?.name;
};

/**
 * Reads the mapped custom fields. The sprint field is found by its shape when it is not mapped,
 * since every Jira Software site has one (its id differs per site).
 */
export function readCustomFields(
  fields: Readonly<Record<string, unknown>>,
  mapping: Readonly<Record<string, CustomFieldTarget>>,
): CustomFieldValues {
  const out: CustomFieldValues = {};
  for (const [fieldId, target] of Object.entries(mapping)) {
    const value = fields[fieldId];
    if (value === null || value === undefined) continue;
    switch (target) {
      case 'storyPoints': {
        const points = numberOf(value);
        if (points !== undefined) out.storyPoints = points;
        break;
      }
      case 'team': {
        const team = textOf(value);
        if (team) out.team = team;
        break;
      }
      case 'startDate': {
        const text = textOf(value);
        const millis = text === undefined ? undefined : parseJiraTime(text);
        if (millis !== undefined) out.plannedStartAt = new Date(millis).toISOString();
        break;
      }
      case 'category': {
        const category = Category.safeParse(textOf(value)?.toLowerCase());
        if (category.success) out.category = category.data;
        break;
      }
      case 'epicLink': {
        const key = textOf(value);
        if (key && /^[A-Za-z][A-Za-z0-9_]*-\d+$/.test(key)) out.epicLink = key.toUpperCase();
        break;
      }
      case 'sprint': {
        const sprint = currentSprint(value) ?? textOf(value);
        if (sprint) out.sprint = sprint;
        break;
      }
    }
  }
  if (out.sprint === undefined) {
    for (const [fieldId, value] of Object.entries(fields)) {
      if (!fieldId.startsWith('customfield_') || fieldId in mapping) continue;
      const sprint = currentSprint(value);
      if (sprint) {
        out.sprint = sprint;
        break;
      }
    }
  }
  return out;
}
