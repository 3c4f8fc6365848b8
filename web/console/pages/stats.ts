/**
 * Statistics: DAU/WAU/MAU and a chart per figure over a range (Chart.js, bundled: no CDN), each
 * with its numbers in a table beside it for screen readers and for copying.
 */
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import type { CanopyClient, components } from "../../../sdk/src/index.js";
import { h, render } from "../../shared/dom.js";
import { field, form, page, table } from "../ui.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

type Report = components["schemas"]["StatsReport"];
type Point = components["schemas"]["StatsPeriod"];

interface Figure {
  label: string;
  color: string;
  value: (p: Point) => number;
}

/** The figures charted, in this order; revenue (one line per currency) when the tenant sells anything. */
const FIGURES: Figure[] = [
  { label: "Active users", color: "#1d4ed8", value: (p) => p.activeUsers },
  { label: "Registrations", color: "#047857", value: (p) => p.registrations },
  { label: "Messages", color: "#7c3aed", value: (p) => p.messages },
  { label: "Posts", color: "#b45309", value: (p) => p.posts },
];

/** Revenue in a currency's major unit (its minor units divided by its decimal places). */
function revenueFigures(series: Point[]): Figure[] {
  const currencies = [...new Set(series.flatMap((p) => Object.keys(p.revenue ?? {})))].sort();
  return currencies.map((currency) => {
    const digits =
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return {
      label: `Revenue (${currency})`,
      color: "#be123c",
      value: (p: Point) => (p.revenue?.[currency] ?? 0) / 10 ** digits,
    };
  });
}

const charts = new Set<Chart>();

function lineChart(title: string, labels: string[], values: number[], color: string): HTMLElement {
  const canvas = h("canvas", { role: "img", "aria-label": `${title}: ${values.join(", ")}` });
  const chart = new Chart(canvas, {
    type: "line",
    data: {
      labels,
      datasets: [{ label: title, data: values, borderColor: color, backgroundColor: color, tension: 0.2 }],
    },
    options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
  charts.add(chart);
  return h(
    "figure",
    { class: "chart", "data-figure": title },
    h("figcaption", null, title),
    h("div", { class: "canvas" }, canvas),
  );
}

export async function statsPage(c: CanopyClient): Promise<HTMLElement> {
  for (const ch of charts) ch.destroy();
  charts.clear();
  const granularity = h(
    "select",
    { name: "granularity" },
    ["day", "week", "month"].map((g) => h("option", { value: g }, g)),
  );
  const body = h("div");
  const load = async () => {
    const { data } = await c.api.GET("/v1/admin/stats", {
      params: { query: { granularity: granularity.value as "day" | "week" | "month" } },
    });
    if (data) render(body, report(data));
  };
  await load();
  return page(
    "Statistics",
    form("Range", load, field("Per", granularity), h("button", { type: "submit" }, "Show")),
    body,
  );
}

function report(r: Report): HTMLElement {
  for (const ch of charts) ch.destroy();
  charts.clear();
  const labels = r.series.map((p) => p.period);
  const figures = [...FIGURES, ...revenueFigures(r.series)];
  const g = r.gauges;
  return h(
    "div",
    null,
    h(
      "dl",
      { class: "gauges" },
      [
        ["DAU", g.dau],
        ["WAU", g.wau],
        ["MAU", g.mau],
        ["Users", g.totalUsers],
      ].map(([k, v]) => h("div", null, h("dt", null, String(k)), h("dd", { "data-gauge": String(k) }, String(v)))),
    ),
    h("p", null, `${r.from} to ${r.to} (UTC), per ${r.granularity}`),
    h(
      "div",
      { class: "charts" },
      figures.map((f) => lineChart(f.label, labels, r.series.map(f.value), f.color)),
    ),
    h(
      "details",
      null,
      h("summary", null, "The numbers"),
      table<Point>(
        "Per period",
        [
          { label: "Period", cell: (p) => p.period },
          ...figures.map((f) => ({ label: f.label, cell: (p: Point) => String(f.value(p)) })),
        ],
        r.series,
      ),
    ),
  );
}
