// A counter of the instance being changed, against its baseline and the
// threshold that would roll the execution back (or pause it).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface Series { times: number[]; values: number[]; baseline?: number; threshold?: number; unit: string }

// minSpan is the narrowest time window the chart shows, in seconds.
const minSpan = 60;

// xRange is the chart's time axis: from the first sample to the last, and
// at least a minute wide, centred on the samples. It is given to uPlot
// explicitly: left to itself, uPlot widens a single sample's range of
// nothing to a day and its axis then reads like years of history.
export function xRange(times: number[]): [number, number] {
  if (times.length === 0) {
    const now = Date.now() / 1000;
    return [now - minSpan, now];
  }
  const lo = Math.min(...times), hi = Math.max(...times);
  if (hi - lo >= minSpan) return [lo, hi];
  const mid = (lo + hi) / 2;
  return [mid - minSpan / 2, mid + minSpan / 2];
}

export function CounterChart({ s, test }: { s: Series; test: string }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const times = useRef(s.times);
  times.current = s.times;
  const data = (): uPlot.AlignedData => [
    s.times,
    s.values,
    s.times.map(() => s.baseline ?? null) as (number | null)[],
    s.times.map(() => s.threshold ?? null) as (number | null)[],
  ];
  useEffect(() => {
    if (!el.current) return;
    const width = Math.max(280, el.current.clientWidth);
    plot.current = new uPlot({
      width, height: 220,
      scales: { x: { time: true, range: () => xRange(times.current) } },
      // The drawn range, for the browser test (and anyone inspecting the page).
      hooks: { draw: [(u) => {
        u.root.parentElement?.setAttribute("data-x-min", String(u.scales.x.min));
        u.root.parentElement?.setAttribute("data-x-max", String(u.scales.x.max));
      }] },
      series: [
        {},
        { label: s.unit, stroke: "#2563eb", width: 2 },
        { label: "baseline", stroke: "#16a34a", dash: [6, 4] },
        { label: "threshold", stroke: "#dc2626", dash: [2, 4] },
      ],
      axes: [{}, { label: s.unit }],
    }, data(), el.current);
    const resize = () => el.current && plot.current?.setSize({ width: Math.max(280, el.current.clientWidth), height: 220 });
    addEventListener("resize", resize);
    return () => { removeEventListener("resize", resize); plot.current?.destroy(); plot.current = null; };
  }, [s.unit]);
  useEffect(() => { plot.current?.setData(data()); });
  return <div class="chart" ref={el} data-test={test} data-points={s.values.length}
    data-first={s.times[0]} data-last={s.times[s.times.length - 1]} />;
}
