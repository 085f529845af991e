import type { Category, ObservedItem } from './work-item.ts';

const OPERATIONAL_LABEL = /^(?:type[:/ ])?(?:ops|operations|operational|incident|maintenance|chore|toil|on-?call|support|security|infra|infrastructure|tech[- ]?debt)$/i;
const REQUEST_LABEL = /^(?:type[:/ ])?(?:request|question|help wanted|support request)$/i;

/**
 * The default rule for the kind of work: email and request kinds are ad-hoc requests,
 * incidents and ops-labelled work are operational, everything else is project work.
 */
export const categorize = (item: Pick<ObservedItem, 'source' | 'kind' | 'labels'>): Category => {
  if (item.source === 'email' || item.kind === 'request' || item.labels.some((l) => REQUEST_LABEL.test(l))) return 'request';
  if (item.kind === 'incident' || item.labels.some((l) => OPERATIONAL_LABEL.test(l))) return 'operational';
  return 'project';
};
