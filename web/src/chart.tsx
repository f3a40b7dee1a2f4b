// A counter of the instance being changed, against its baseline and the
// threshold that would roll the execution back (or pause it).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface Series { times: number[]; values: number[]; baseline?: number; threshold?: number; unit: string }

export function CounterChart({ s, test }: { s: Series; test: string }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
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
      // One sample would make a range of nothing (uPlot then spans years): show a minute around it.
      scales: { x: { time: true, range: (_u, min, max) => (min === max ? [min - 30, max + 30] : [min, max]) } },
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
  return <div class="chart" ref={el} data-test={test} data-points={s.values.length} />;
}
