import type { Alert } from '../core/alerts.ts';
import { Time, itemPath } from './format.tsx';

const KIND_NAMES: Record<Alert['kind'], string> = {
  unblocked: 'unblocked',
  blocker_stale: 'stale blocker',
  blocker_overdue: 'overdue blocker',
  due_date_conflict: 'due date conflict',
  dependency_cycle: 'dependency cycle',
  cross_team_blocker: 'cross-team blocker',
  unowned_priority: 'unowned priority',
  wip_over_limit: 'WIP over limit',
  request_unanswered: 'request unanswered',
  pr_without_ticket: 'PR without ticket',
  ticket_done_pr_open: 'ticket done, PR open',
  pr_merged_ticket_open: 'PR merged, ticket open',
  subscription_disabled: 'webhook subscription disabled',
};

export const kindName = (kind: Alert['kind']): string => KIND_NAMES[kind] ?? kind;

/** Alerts as a list: severity, kind, message, the items it names, when it opened (or resolved). */
export const AlertList = (props: { alerts: readonly Alert[]; now: Date; label: string }) => (
  <ul class="alerts" aria-label={props.label}>
    {props.alerts.map((alert) => (
      <li class={alert.state === 'open' ? alert.severity : 'resolved'} data-alert={alert.id} data-kind={alert.kind} data-state={alert.state}>
        <span class={`status ${alert.state === 'open' ? alert.severity : 'done'}`}>{alert.state === 'open' ? alert.severity : 'resolved'}</span>{' '}
        <b>{kindName(alert.kind)}</b> · <small>{alert.state === 'open' ? <Time at={alert.openedAt} now={props.now} prefix="raised " /> : <Time at={alert.resolvedAt ?? alert.openedAt} now={props.now} prefix="resolved " />}</small>
        <br />
        {alert.message}
        {(alert.subjectType ?? 'item') === 'item' || alert.related.length > 0 ? (
          <>
            <br />
            <small>
              {(alert.subjectType ?? 'item') === 'item' ? (
                <a href={itemPath(alert.subject.id)} data-role="subject">
                  {alert.subject.title ?? alert.subject.ref}
                </a>
              ) : null}
              {alert.related.map((r) => (
                <>
                  {' · '}
                  <a href={itemPath(r.id)} data-role="related">
                    {r.title ?? r.ref}
                  </a>
                </>
              ))}
            </small>
          </>
        ) : null}
      </li>
    ))}
  </ul>
);
