import type { Overview } from '../core/overview.ts';
import { Category, StatusCategory } from '../core/work-item.ts';
import { AlertList } from './alert-list.tsx';
import { BlockedChains } from './blocked-chains.tsx';
import { BarChart, WeeklyChart } from './charts.tsx';
import { Time, itemPath, teamPath } from './format.tsx';
import { Layout } from './layout.tsx';

const CATEGORY_COLORS: Record<Category, string> = { project: '#0969da', operational: '#bf8700', request: '#8250df' };
const days = (hours: number) => `${(hours / 24).toFixed(1)} d`;

/**
 * `/`: where the work is, what is stuck, what changed. The summary cards, the digest's headline,
 * open alerts, bottlenecks and blocked chains, and the flow of the last 12 weeks as charts with
 * their numbers beside them. The data is the API's `GET /v1/views/overview`.
 */
export const OverviewPage = (props: { overview: Overview; now: Date }) => {
  const { overview, now } = props;
  const { summary, bottlenecks } = overview;
  const weeks = overview.weeks.map((w) => w.week);
  const cards: [string, number | string][] = [
    ['Open', summary.open],
    ['Blocked', summary.blocked],
    ['Stale', summary.stale],
    ['Unowned', summary.unowned],
    ['Unplanned', `${Math.round(summary.unplannedShare * 100)}%`],
    ['Created (7 d)', summary.createdVsClosed.last7Days.created],
    ['Closed (7 d)', summary.createdVsClosed.last7Days.closed],
  ];
  const cycle = overview.cycleTimeHours;
  return (
    <Layout title="Overview" signedIn>
      <h1>Overview</h1>
      <p class="headline" data-headline>
        {overview.headline}
      </p>
      <section class="cards" aria-label="summary">
        {cards.map(([label, value]) => (
          <div class="card" data-metric={label}>
            {label}
            <b>{String(value)}</b>
          </div>
        ))}
      </section>

      <div class="grid2">
        <section aria-labelledby="open-alerts-h" data-section="open-alerts">
          <h2 id="open-alerts-h">Open alerts</h2>
          {overview.openAlerts.items.length === 0 ? <p>No open alerts.</p> : <AlertList alerts={overview.openAlerts.items} now={now} label="open alerts" />}
          {overview.openAlerts.more ? <a href="/alerts?state=open">All open alerts</a> : null}
        </section>
        <section aria-labelledby="bottlenecks-h" data-section="bottlenecks">
          <h2 id="bottlenecks-h">Bottlenecks</h2>
          {bottlenecks.holders.length === 0 && bottlenecks.longRunning.length === 0 && bottlenecks.waitingForReview.length === 0 ? (
            <p>Nothing holds work up.</p>
          ) : null}
          {bottlenecks.holders.length > 0 ? (
            <>
              <h3>Holding up the most work</h3>
              <ul class="plain">
                {bottlenecks.holders.map((h) => (
                  <li>
                    <a href={itemPath(h.id)}>{h.title}</a> <small>holds up {h.blockedCount} ({h.directlyBlocked} directly){h.team ? ` · ${h.team}` : ''}</small>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {bottlenecks.waitingForReview.length > 0 ? (
            <>
              <h3>Waiting for review</h3>
              <ul class="plain">
                {bottlenecks.waitingForReview.map((w) => (
                  <li>
                    <a href={itemPath(w.id)}>{w.title}</a> <small>for {Math.round(w.waitingHours)} hours</small>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {bottlenecks.longRunning.length > 0 ? (
            <>
              <h3>In progress the longest</h3>
              <ul class="plain">
                {bottlenecks.longRunning.map((l) => (
                  <li>
                    <a href={itemPath(l.id)}>{l.title}</a> <small>for {Math.round(l.inProgressDays)} days</small>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {bottlenecks.teamsWithIncomingCrossTeamBlockers.length > 0 ? (
            <p>
              Teams blocked by other teams:{' '}
              {bottlenecks.teamsWithIncomingCrossTeamBlockers.map((t, i) => (
                <>
                  {i > 0 ? ', ' : ''}
                  <a href={teamPath(t.team)}>{t.team}</a> ({t.blockers})
                </>
              ))}
            </p>
          ) : null}
          <p>
            <small>
              <Time at={bottlenecks.computedAt} now={now} prefix="analysed " />
            </small>
          </p>
        </section>
      </div>

      <BlockedChains chains={overview.chains} />

      <h2>Flow, last {overview.weeks.length} weeks</h2>
      <div>
        <WeeklyChart
          id="throughput"
          title="Throughput"
          description={`Items done per week; ${overview.weeks.reduce((a, w) => a + w.throughput, 0)} in ${overview.weeks.length} weeks.`}
          weeks={weeks}
          mode="grouped"
          series={[{ name: 'Done', color: '#1a7f37', values: overview.weeks.map((w) => w.throughput) }]}
        />
        <WeeklyChart
          id="created-vs-closed"
          title="Created vs closed"
          description="Items created and items closed (done or cancelled) per week."
          weeks={weeks}
          mode="lines"
          series={[
            { name: 'Created', color: '#0969da', values: overview.weeks.map((w) => w.created) },
            { name: 'Closed', color: '#1a7f37', values: overview.weeks.map((w) => w.closed) },
          ]}
        />
        <WeeklyChart
          id="cycle-time"
          title="Cycle time"
          description={`Days from start to done, 50th and 85th percentile of the items done each week; over the window p50 ${cycle.p50 === null ? 'unknown' : days(cycle.p50)}, p85 ${cycle.p85 === null ? 'unknown' : days(cycle.p85)}.`}
          weeks={weeks}
          mode="lines"
          unit="days"
          format={(n) => n.toFixed(1)}
          series={[
            { name: 'p50', color: '#0969da', values: overview.weeks.map((w) => (w.cycleTimeHours.p50 === null ? null : Math.round((w.cycleTimeHours.p50 / 24) * 10) / 10)) },
            { name: 'p85', color: '#8250df', values: overview.weeks.map((w) => (w.cycleTimeHours.p85 === null ? null : Math.round((w.cycleTimeHours.p85 / 24) * 10) / 10)) },
          ]}
        />
        <WeeklyChart
          id="work-mix"
          title="Work mix"
          description="Items done per week by kind of work: project, operational, request."
          weeks={weeks}
          mode="stacked"
          series={Category.options.map((c) => ({ name: c, color: CATEGORY_COLORS[c], values: overview.weeks.map((w) => w.mix[c] ?? 0) }))}
        />
      </div>
      <p>
        Cycle time over the {overview.weeks.length} weeks: p50 <b data-metric="cycle-p50">{cycle.p50 === null ? '—' : days(cycle.p50)}</b>, p85{' '}
        <b data-metric="cycle-p85">{cycle.p85 === null ? '—' : days(cycle.p85)}</b> ({cycle.count} items with a start and an end).
      </p>

      <h2>Work in progress</h2>
      <div>
        <BarChart
          id="wip-by-team"
          title="WIP by team"
          description="Items in progress, in review or blocked per team, against the team's WIP limit."
          valueName="WIP"
          rows={overview.wipByTeam.map((t) => ({ label: t.team, value: t.wip, limit: t.limit, color: t.overLimit ? '#cf222e' : '#0969da', href: teamPath(t.team) }))}
        />
        <BarChart
          id="open-by-category"
          title="Open work by category"
          description="Open items: planned project work against unplanned operational work and requests."
          valueName="Open"
          rows={Category.options.map((c) => ({ label: c, value: summary.openByCategory[c] ?? 0, color: CATEGORY_COLORS[c] }))}
        />
        <BarChart
          id="by-status"
          title="Items by status"
          description="Every item in the index by status category."
          valueName="Items"
          rows={StatusCategory.options.map((s) => ({ label: s.replace('_', ' '), value: summary.byStatus[s] ?? 0, color: '#57606a' }))}
        />
      </div>
    </Layout>
  );
};
