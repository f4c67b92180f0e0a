// Fourfold's charts: Apache ECharts with only what a scorecard tool draws, rendered lazily.
//
// Markup (see templates/ui/chart.html):
//   <div class="chart" data-chart-src="/kpis/7/chart/" aria-label="Revenue per month"></div>
//       fetches the ECharts option as JSON when the element comes near the viewport, then draws it;
//   <div class="chart" data-chart-json="trend-option"></div> + {{ option|json_script:"trend-option" }}
//       draws an option embedded in the page, also only when it comes into view.
// An option may carry ``numberFormat`` (decimal and thousands separators, group sizes: how the server writes
// the page's numbers in the user's language); value axes then label their ticks in it, through their label
// template ("{value} %"), since JSON cannot carry a formatting function.
// Charts follow their element's size, redraw when htmx swaps new ones in, and are disposed of when htmx
// removes them. Colours and fonts come from the stylesheet's custom properties (tokens.css), so charts and
// pages cannot drift apart. window.FourfoldCharts.refresh(element) fetches and draws one again.
import * as echarts from "echarts/core";
import { BarChart, CustomChart, GraphChart, LineChart, ScatterChart } from "echarts/charts";
import {
  AriaComponent,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
} from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([
  LineChart,
  BarChart,
  ScatterChart,
  GraphChart,
  CustomChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  DatasetComponent,
  TitleComponent,
  AriaComponent,
  SVGRenderer,
]);

const SELECTOR = "[data-chart-src], [data-chart-json]";
const charts = new Map();

/** The ECharts theme, read from the stylesheet's custom properties once the stylesheet has loaded. */
function theme() {
  const style = getComputedStyle(document.documentElement);
  const token = (name) => style.getPropertyValue(name).trim();
  const palette = [1, 2, 3, 4, 5, 6, 7, 8].map((index) => token(`--chart-${index}`));
  const ink = token("--ink");
  const muted = token("--ink-muted");
  const line = token("--line");
  const font = getComputedStyle(document.body).fontFamily;
  const axis = {
    axisLine: { lineStyle: { color: token("--line-strong") } },
    axisTick: { show: false },
    axisLabel: { color: muted, fontSize: 12 },
    splitLine: { lineStyle: { color: line } },
    nameTextStyle: { color: muted },
  };
  return {
    color: palette,
    backgroundColor: "transparent",
    // Axis labels and names stay inside the element, however long they are.
    grid: { left: 8, right: 16, top: 40, bottom: 8, outerBoundsMode: "same", outerBoundsContain: "all" },
    textStyle: { fontFamily: font, color: ink },
    title: { textStyle: { color: ink, fontSize: 14, fontWeight: 600 }, subtextStyle: { color: muted } },
    legend: { textStyle: { color: muted }, icon: "roundRect", itemWidth: 12, itemHeight: 12 },
    tooltip: {
      backgroundColor: token("--surface"),
      borderColor: line,
      textStyle: { color: ink, fontSize: 13 },
      extraCssText: `box-shadow: ${token("--shadow-md")}; border-radius: 8px;`,
    },
    categoryAxis: axis,
    valueAxis: { ...axis, axisLine: { show: false } },
    timeAxis: axis,
    line: { symbol: "circle", symbolSize: 6, lineStyle: { width: 2 } },
    bar: { itemStyle: { borderRadius: [3, 3, 0, 0] } },
    markLine: { lineStyle: { color: muted }, label: { color: muted } },
  };
}

/** Defaults every chart gets unless its option says otherwise: a description for screen readers, and
 * no animation for people who asked for less motion. */
function withDefaults(option) {
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  return { animation: !calm, ...option, aria: { enabled: true, ...(option.aria ?? {}) } };
}

/** Group an integer's digits as Django's number format does: the first size, then each next one, a 0
 * repeating the size before it, a -1 stopping (so [3, 2, 0] writes 12,34,567 and 3 writes 1,234,567). */
function grouped(digits, grouping, separator) {
  const sizes = Array.isArray(grouping) ? [...grouping] : [grouping, 0];
  let size = sizes.shift() ?? 0;
  if (!separator) return digits;
  const groups = [];
  let rest = digits;
  while (size > 0 && rest.length > size) {
    groups.unshift(rest.slice(-size));
    rest = rest.slice(0, -size);
    if (sizes.length) size = sizes.shift() || size;
  }
  return [rest, ...groups].join(separator);
}

/** A tick value in the server's number format, with as many decimals as the tick has (ECharts picks round
 * ticks; the float noise of 0.1 + 0.2 is rounded away). */
function formatNumber(value, { decimal, thousands, grouping }) {
  const plain = Math.abs(value).toLocaleString("en-US", { useGrouping: false, maximumFractionDigits: 10 });
  const [whole, fraction] = plain.split(".");
  const sign = value < 0 && Number(plain) !== 0 ? "-" : "";
  return sign + grouped(whole, grouping, thousands) + (fraction ? decimal + fraction : "");
}

/** The option with its value axes labelled in its ``numberFormat``; options without one are left alone. */
function withNumberFormat(option) {
  const { numberFormat, ...rest } = option;
  if (!numberFormat) return option;
  const label = (axis) => {
    if (axis.type !== "value") return axis;
    const formatter = axis.axisLabel?.formatter;
    const template = typeof formatter === "string" ? formatter : "{value}";
    return {
      ...axis,
      axisLabel: {
        ...axis.axisLabel,
        formatter: (value) => template.replace("{value}", formatNumber(value, numberFormat)),
      },
    };
  };
  for (const key of ["xAxis", "yAxis"]) {
    if (rest[key]) rest[key] = Array.isArray(rest[key]) ? rest[key].map(label) : label(rest[key]);
  }
  return rest;
}

async function optionOf(element) {
  if (element.dataset.chartJson) {
    const source = document.getElementById(element.dataset.chartJson);
    if (!source) throw new Error(`no element #${element.dataset.chartJson} holds this chart's option`);
    return JSON.parse(source.textContent);
  }
  const response = await fetch(element.dataset.chartSrc, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error(`the chart's data answered ${response.status}`);
  return response.json();
}

let registered = false;

/** Draw (or draw again) the chart of one element. */
async function render(element) {
  if (!registered) {
    echarts.registerTheme("fourfold", theme());
    registered = true;
  }
  element.setAttribute("aria-busy", "true");
  try {
    const option = await optionOf(element);
    let chart = charts.get(element);
    if (!chart) {
      element.replaceChildren();
      chart = echarts.init(element, "fourfold", { renderer: "svg" });
      charts.set(element, chart);
      resizer.observe(element);
    }
    chart.setOption(withDefaults(withNumberFormat(option)), { notMerge: true });
    element.dataset.chartState = "ready";
  } catch (error) {
    element.dataset.chartState = "failed";
    const note = document.createElement("p");
    note.className = "chart-failed";
    note.textContent = element.dataset.chartError || "This chart could not be loaded.";
    element.replaceChildren(note);
    console.error("Fourfold chart:", error);
  } finally {
    element.removeAttribute("aria-busy");
  }
}

function dispose(element) {
  const chart = charts.get(element);
  if (!chart) return;
  resizer.unobserve(element);
  chart.dispose();
  charts.delete(element);
}

const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) charts.get(entry.target)?.resize();
});

const watcher = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      watcher.unobserve(entry.target);
      render(entry.target);
    }
  },
  { rootMargin: "200px 0px" },
);

/** Start watching every chart element in ``root`` (the page, or content htmx has just swapped in). */
function scan(root) {
  const found = root.matches?.(SELECTOR) ? [root] : [];
  for (const element of [...found, ...root.querySelectorAll(SELECTOR)]) {
    if (element.dataset.chartState) continue;
    element.dataset.chartState = "waiting";
    watcher.observe(element);
  }
}

document.addEventListener("htmx:load", (event) => scan(event.detail.elt));
document.addEventListener("htmx:beforeCleanupElement", (event) => dispose(event.detail.elt));
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => scan(document.body));
} else {
  scan(document.body);
}

window.FourfoldCharts = {
  /** Fetch and draw one chart again, e.g. after its data-chart-src changed. */
  refresh: (element) => render(element),
  /** The ECharts instance of an element, once drawn, for a page that needs more (events, actions). */
  instance: (element) => charts.get(element),
  scan,
};
