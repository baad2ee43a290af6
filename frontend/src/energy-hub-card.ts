// Energy Hub card: the forecast (carbon intensity, prices, windows), the grid mix, a plant's
// microinverters and a battery's recent days. Registered by the integration itself.
import { LitElement, css, html, nothing, svg, type PropertyValues, type TemplateResult } from "lit";
import {
  BATTERY_SERIES,
  DOMAIN,
  type Bar,
  type HomeAssistant,
  type Point,
  type Window,
  carbonBars,
  cheapestWindows,
  deviceEntities,
  deviceOf,
  historyPoints,
  mixOf,
  plantTiles,
  priceBars,
  sibling,
  windowOf,
} from "./data";
import { defineEditor } from "./editor";

export const VIEWS = ["forecast", "mix", "plant", "battery"] as const;
export type View = (typeof VIEWS)[number];

export interface CardConfig {
  type: string;
  view: View;
  title?: string;
  /** forecast: a Carbon Intensity "Carbon intensity" sensor (its `forecast` attribute). */
  carbon_entity?: string;
  /** forecast: a rate sensor (`rates`, or `rates_today` + `rates_tomorrow`). */
  price_entity?: string;
  /** forecast: hours ahead (6-48). */
  hours?: number;
  /** forecast: more entities with `start`/`end` attributes, shaded as windows. */
  windows?: string[];
  /** mix, plant, battery: any Energy Hub entity of the device to show. */
  entity?: string;
  /** battery: days of history (1-7). */
  days?: number;
}

const CARD = "energy-hub-card";

interface Tip {
  series: string;
  left: number;
  text: string;
}

interface SeriesHistory {
  key: string;
  entity: string;
  points: Point[];
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

export class EnergyHubCard extends LitElement {
  declare hass?: HomeAssistant;
  declare _config?: CardConfig;
  declare _tip?: Tip;
  declare _history?: SeriesHistory[];
  declare _historyError?: string;
  private _historyKey = "";
  private _historyAt = 0;

  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _tip: { state: true },
    _history: { state: true },
    _historyError: { state: true },
  };

  static getConfigElement(): HTMLElement {
    return document.createElement("energy-hub-card-editor");
  }

  static getStubConfig(hass: HomeAssistant): Partial<CardConfig> {
    const ours = Object.values(hass.entities ?? {}).filter((e) => e.platform === DOMAIN);
    const carbon = ours.find((e) => e.translation_key === "carbon_intensity")?.entity_id;
    const price = ours.find((e) => e.translation_key === "rate_current")?.entity_id;
    const config: Partial<CardConfig> = { view: "forecast", hours: 48 };
    if (carbon) config.carbon_entity = carbon;
    if (price) config.price_entity = price;
    return config;
  }

  setConfig(config: CardConfig): void {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    const view = (config.view ?? "forecast") as View;
    if (!VIEWS.includes(view)) throw new Error(`Unknown view "${String(config.view)}": use one of ${VIEWS.join(", ")}`);
    if (config.windows !== undefined && !Array.isArray(config.windows)) throw new Error("windows must be a list of entities");
    this._config = { ...config, view };
  }

  getCardSize(): number {
    return this._config?.view === "mix" ? 5 : 4;
  }

  getGridOptions(): Record<string, unknown> {
    return { columns: 12, min_columns: 6, rows: "auto" };
  }

  protected updated(changed: PropertyValues): void {
    if (this._config?.view === "battery" && (changed.has("hass") || changed.has("_config"))) this._maybeFetchHistory();
  }

  // --- helpers ----------------------------------------------------------------------------

  private _timeFormat(withDay = false): Intl.DateTimeFormat {
    const hass = this.hass!;
    return new Intl.DateTimeFormat(hass.locale?.language ?? hass.language ?? "en", {
      timeZone: hass.config.time_zone,
      hour: "2-digit",
      minute: "2-digit",
      ...(withDay ? { weekday: "short" } : {}),
    });
  }

  private _unit(entityId: string | undefined): string {
    return String((entityId && this.hass?.states[entityId]?.attributes.unit_of_measurement) ?? "");
  }

  private _warning(text: string): TemplateResult {
    return html`<div class="warning" role="status">${text}</div>`;
  }

  // --- render -----------------------------------------------------------------------------

  protected render(): TemplateResult | typeof nothing {
    if (!this._config || !this.hass) return nothing;
    const view = this._config.view;
    const body =
      view === "forecast"
        ? this._renderForecast()
        : view === "mix"
          ? this._renderMix()
          : view === "plant"
            ? this._renderPlant()
            : this._renderBattery();
    return html`<ha-card .header=${this._config.title}>
      <div class="content view-${view}" data-view=${view}>${body}</div>
    </ha-card>`;
  }

  private _renderForecast(): TemplateResult {
    const config = this._config!;
    const hass = this.hass!;
    const now = Date.now();
    const hours = clamp(Number(config.hours ?? 48) || 48, 1, 48);
    const charts: TemplateResult[] = [];
    if (config.carbon_entity) {
      const entity = hass.states[config.carbon_entity];
      const bars = carbonBars(entity, now, hours);
      const windows: Window[] = [];
      const greenest = windowOf(hass.states[sibling(hass, config.carbon_entity, "greenest_window_start") ?? ""], "greenest");
      if (greenest) windows.push(greenest);
      for (const id of config.windows ?? []) {
        const w = windowOf(hass.states[id], "window");
        if (w) windows.push(w);
      }
      charts.push(
        entity
          ? this._chart("carbon", "Carbon intensity", bars, windows, now, this._unit(config.carbon_entity), 0)
          : this._warning(`Entity not found: ${config.carbon_entity}`),
      );
    }
    if (config.price_entity) {
      const entity = hass.states[config.price_entity];
      const bars = priceBars(entity, now, hours, hass.config.time_zone);
      const windows = cheapestWindows(entity, bars, hass.config.time_zone);
      for (const id of config.windows ?? []) {
        const w = windowOf(hass.states[id], "window");
        if (w) windows.push(w);
      }
      charts.push(
        entity
          ? this._chart("price", "Price", bars, windows, now, this._unit(config.price_entity), 4)
          : this._warning(`Entity not found: ${config.price_entity}`),
      );
    }
    if (!charts.length) return this._warning("Choose a carbon intensity sensor or a rate sensor.");
    return html`${charts}`;
  }

  private _chart(
    series: string,
    title: string,
    bars: Bar[],
    windows: Window[],
    now: number,
    unit: string,
    digits: number,
  ): TemplateResult {
    if (!bars.length) {
      return html`<section class="chart" data-series=${series} data-now=${now}>
        <h3>${title}</h3>
        ${this._warning("No forecast yet.")}
      </section>`;
    }
    const t0 = bars[0].start;
    const t1 = bars[bars.length - 1].end;
    const span = t1 - t0;
    const x = (t: number) => (100 * (clamp(t, t0, t1) - t0)) / span;
    const lo = Math.min(0, ...bars.map((b) => b.value));
    const hi = Math.max(0, ...bars.map((b) => b.value)) || 1;
    const range = hi - lo || 1;
    const zero = (100 * -lo) / range;
    const fmt = this._timeFormat();
    const fmtDay = this._timeFormat(true);
    const ticks: number[] = [];
    const step = span > 24 * 3600e3 ? 6 * 3600e3 : 3 * 3600e3;
    for (let t = Math.ceil(t0 / step) * step; t < t1; t += step) ticks.push(t);
    const tip = this._tip?.series === series ? this._tip : undefined;
    const show = (bar: Bar, left: number) => {
      const value = bar.value.toFixed(digits);
      const band = bar.band === "unknown" ? "" : ` · ${bar.band.replace("_", " ")}`;
      this._tip = { series, left, text: `${fmtDay.format(bar.start)}–${fmt.format(bar.end)} · ${value} ${unit}${band}` };
    };
    return html`<section class="chart" data-series=${series} data-now=${now} data-hours=${(t1 - t0) / 3600e3}>
      <h3>${title} <span class="unit">${unit}</span></h3>
      <div class="plot" @pointerleave=${() => (this._tip = undefined)}>
        ${windows
          .filter((w) => w.end > t0 && w.start < t1)
          .map(
            (w) => html`<div
              class="window window-${w.label}"
              data-start=${new Date(w.start).toISOString()}
              data-end=${new Date(w.end).toISOString()}
              data-entity=${w.entity}
              title=${`${w.label}: ${fmtDay.format(w.start)}–${fmt.format(w.end)}`}
              style=${`left:${x(w.start)}%;width:${x(w.end) - x(w.start)}%`}
            ></div>`,
          )}
        <div class="zero" style=${`bottom:${zero}%`}></div>
        ${bars.map((bar) => {
          const left = x(bar.start);
          const height = (100 * Math.abs(bar.value)) / range;
          const bottom = bar.value >= 0 ? zero : zero - height;
          return html`<div
            class="bar band-${bar.band}"
            tabindex="0"
            role="img"
            aria-label=${`${fmt.format(bar.start)} ${bar.value.toFixed(digits)} ${unit}`}
            data-start=${new Date(bar.start).toISOString()}
            data-value=${bar.value}
            style=${`left:${left}%;width:${x(bar.end) - left}%;bottom:${bottom}%;height:${Math.max(height, 0.5)}%`}
            @pointerenter=${() => show(bar, left)}
            @focus=${() => show(bar, left)}
            @click=${() => show(bar, left)}
          ></div>`;
        })}
        ${now >= t0 && now <= t1 ? html`<div class="now" style=${`left:${x(now)}%`} title="now"></div>` : nothing}
        ${tip
          ? html`<div
              class="tip"
              role="tooltip"
              style=${tip.left < 50 ? `left:${Math.max(tip.left, 0)}%` : `right:${Math.max(100 - tip.left - 2, 0)}%`}
            >
              ${tip.text}
            </div>`
          : nothing}
      </div>
      <div class="axis">
        ${ticks.map((t) => html`<span style=${`left:${x(t)}%`}>${fmt.format(t)}</span>`)}
      </div>
    </section>`;
  }

  private _renderMix(): TemplateResult {
    const config = this._config!;
    if (!config.entity) return this._warning("Choose an entity of a Carbon Intensity or Elexon entry.");
    if (!deviceOf(this.hass!, config.entity)) return this._warning(`Entity not found: ${config.entity}`);
    const mix = mixOf(this.hass!, config.entity);
    if (!mix.fuels.length) return this._warning("No generation mix yet.");
    const row = (p: { entity: string; label: string; value: number; unit: string; share: number }, kind: string) =>
      html`<div class="mix-row mix-${kind}" data-entity=${p.entity}>
        <span class="label">${p.label}</span>
        <span class="track"><span class="fill" style=${`width:${clamp(p.share, 0, 100)}%`}></span></span>
        <span class="value">${p.unit === "%" ? `${p.value.toFixed(1)} %` : `${Math.round(p.value)} ${p.unit}`}</span>
      </div>`;
    const maxLink = Math.max(1, ...[...mix.imports, ...mix.exports].map((p) => p.value));
    const link = (p: { entity: string; label: string; value: number; unit: string; share: number }, kind: string) =>
      row({ ...p, share: (100 * p.value) / maxLink }, kind);
    return html`<div class="mix">
      <h3>Generation</h3>
      ${mix.fuels.map((p) => row(p, "fuel"))}
      ${mix.imports.length || mix.exports.length
        ? html`<h3>Interconnectors</h3>
            ${mix.imports.map((p) => link(p, "import"))} ${mix.exports.map((p) => link(p, "export"))}
            <div class="legend"><span class="key key-import"></span>import <span class="key key-export"></span>export</div>`
        : nothing}
    </div>`;
  }

  private _renderPlant(): TemplateResult {
    const config = this._config!;
    if (!config.entity) return this._warning("Choose an entity of a Hoymiles plant.");
    if (!deviceOf(this.hass!, config.entity)) return this._warning(`Entity not found: ${config.entity}`);
    const tiles = plantTiles(this.hass!, config.entity);
    if (!tiles.length) return this._warning("No microinverters under this plant.");
    const max = Math.max(1, ...tiles.map((t) => t.power ?? 0));
    return html`<div class="tiles">
      ${tiles.map((t) => {
        const level = t.power === undefined ? 0 : clamp(t.power / max, 0, 1);
        const status = t.status ?? "unknown";
        return html`<div
          class="tile status-${status}"
          data-device=${t.device}
          data-power=${t.power ?? ""}
          style=${`--level:${level}`}
          title=${t.name}
        >
          <span class="name">${t.name}</span>
          <span class="power">${t.power === undefined ? "–" : `${Math.round(t.power)} W`}</span>
          <span class="meta"
            >${status}${t.temperature === undefined ? "" : ` · ${t.temperature.toFixed(1)} °C`}</span
          >
        </div>`;
      })}
    </div>`;
  }

  private _batteryEntities(): { key: string; entity: string }[] {
    const config = this._config!;
    const hass = this.hass!;
    const ents = deviceEntities(hass, deviceOf(hass, config.entity));
    return BATTERY_SERIES.flatMap((key) => {
      const e = ents.find((x) => x.translation_key === key);
      return e ? [{ key, entity: e.entity_id }] : [];
    });
  }

  private _maybeFetchHistory(): void {
    if (!this.hass || !this._config?.entity) return;
    const series = this._batteryEntities();
    const days = clamp(Number(this._config.days ?? 2) || 2, 1, 7);
    const key = `${days}|${series.map((s) => s.entity).join(",")}`;
    if (!series.length || (key === this._historyKey && Date.now() - this._historyAt < 5 * 60e3)) return;
    this._historyKey = key;
    this._historyAt = Date.now();
    const end = new Date();
    const start = new Date(end.getTime() - days * 24 * 3600e3);
    this.hass
      .callWS<Record<string, unknown>>({
        type: "history/history_during_period",
        start_time: start.toISOString(),
        end_time: end.toISOString(),
        entity_ids: series.map((s) => s.entity),
        minimal_response: true,
        no_attributes: true,
        significant_changes_only: false,
      })
      .then((answer) => {
        if (key !== this._historyKey) return;
        this._history = series.map((s) => ({ ...s, points: historyPoints(answer[s.entity]) }));
        this._historyError = undefined;
      })
      .catch((err: unknown) => {
        this._historyError = `History unavailable: ${(err as { message?: string })?.message ?? String(err)}`;
      });
  }

  private _renderBattery(): TemplateResult {
    const config = this._config!;
    if (!config.entity) return this._warning("Choose an entity of a battery (XOLTA, Aretas, Hoymiles).");
    if (!deviceOf(this.hass!, config.entity)) return this._warning(`Entity not found: ${config.entity}`);
    if (this._historyError) return this._warning(this._historyError);
    if (!this._history) return html`<div class="loading">Loading history…</div>`;
    const now = Date.now();
    const days = clamp(Number(config.days ?? 2) || 2, 1, 7);
    // Each series holds its value until the next change; the current state closes it at now.
    const series = this._history.map((s) => {
      const current = Number(this.hass!.states[s.entity]?.state);
      const points = s.points.filter(([t]) => t <= now);
      if (Number.isFinite(current)) points.push([now, current]);
      return { ...s, points };
    });
    // The chart spans the days asked for, or less where the recorder holds less (a new
    // installation), but at least ten minutes.
    const earliest = Math.min(now, ...series.flatMap((s) => s.points.map(([t]) => t)));
    const t0 = Math.min(now - 10 * 60e3, Math.max(now - days * 24 * 3600e3, earliest));
    const soc = series.find((s) => s.key === "battery_soc");
    const powers = series.filter((s) => s.key !== "battery_soc");
    const W = 600;
    const H = 150;
    const px = (t: number) => ((Math.max(t, t0) - t0) / (now - t0)) * W;
    const step = (points: Point[], y: (v: number) => number) => {
      let d = "";
      let last: number | undefined;
      for (const [t, v] of points) {
        const X = px(t).toFixed(1);
        const Y = y(v).toFixed(1);
        d += d ? `${last !== undefined ? ` L${X},${last.toFixed(1)}` : ""} L${X},${Y}` : `M${X},${Y}`;
        last = y(v);
      }
      return d;
    };
    const peak = Math.max(1, ...powers.flatMap((s) => s.points.map(([, v]) => Math.abs(v))));
    const fmt = this._timeFormat(true);
    const labels: Record<string, string> = {
      battery_soc: "State of charge",
      battery_power: "Battery",
      pv_power: "PV",
      grid_power: "Grid",
      house_power: "House",
    };
    return html`<div class="battery">
      ${soc
        ? html`<section class="series-chart" data-series="battery_soc" data-points=${soc.points.length}>
            <h3>${labels.battery_soc} <span class="unit">%</span></h3>
            <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="State of charge">
              ${[0, 50, 100].map((v) => svg`<line class="grid" x1="0" x2=${W} y1=${H - (v / 100) * H} y2=${H - (v / 100) * H}></line>`)}
              <path class="line s-battery_soc" d=${step(soc.points, (v) => H - (clamp(v, 0, 100) / 100) * H)}></path>
            </svg>
          </section>`
        : nothing}
      ${powers.length
        ? html`<section class="series-chart" data-series="power">
            <h3>Power <span class="unit">kW</span></h3>
            <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="Power">
              <line class="grid" x1="0" x2=${W} y1=${H / 2} y2=${H / 2}></line>
              ${powers.map(
                (s) =>
                  svg`<path class=${`line s-${s.key}`} data-series=${s.key} data-points=${s.points.length} d=${step(s.points, (v) => H / 2 - (v / peak) * (H / 2 - 2))}></path>`,
              )}
            </svg>
            <div class="legend">
              ${powers.map((s) => html`<span><span class="key s-${s.key}"></span>${labels[s.key]}</span>`)}
              <span class="hint">± ${(peak / 1000).toFixed(1)} kW</span>
            </div>
          </section>`
        : nothing}
      <div class="axis-text"><span>${fmt.format(t0)}</span><span>now</span></div>
    </div>`;
  }

  static styles = css`
    :host {
      --eh-very-low: #1a9850;
      --eh-low: #91cf60;
      --eh-moderate: #fee08b;
      --eh-high: #fc8d59;
      --eh-very-high: #d73027;
      --eh-negative: #4575b4;
      --eh-unknown: var(--disabled-text-color, #9e9e9e);
      --eh-window: rgba(26, 152, 80, 0.18);
      --eh-cheapest: rgba(69, 117, 180, 0.18);
    }
    .content {
      padding: 8px 16px 16px;
      color: var(--primary-text-color);
    }
    h3 {
      margin: 8px 0 4px;
      font-size: 0.95em;
      font-weight: 500;
    }
    .unit,
    .hint {
      color: var(--secondary-text-color);
      font-weight: normal;
      font-size: 0.85em;
    }
    .warning,
    .loading {
      padding: 8px 0;
      color: var(--secondary-text-color);
    }
    .plot {
      position: relative;
      height: 120px;
      border-bottom: 1px solid var(--divider-color, #ccc);
      touch-action: pan-y;
    }
    .bar {
      position: absolute;
      box-sizing: border-box;
      border-left: 1px solid var(--card-background-color, #fff);
      border-radius: 2px 2px 0 0;
      cursor: pointer;
      outline: none;
    }
    .bar:hover,
    .bar:focus {
      filter: brightness(0.85);
    }
    .band-very_low { background: var(--eh-very-low); }
    .band-low { background: var(--eh-low); }
    .band-moderate { background: var(--eh-moderate); }
    .band-high { background: var(--eh-high); }
    .band-very_high { background: var(--eh-very-high); }
    .band-negative {
      background: var(--eh-negative);
      border-radius: 0 0 2px 2px;
    }
    .band-unknown { background: var(--eh-unknown); }
    .window {
      position: absolute;
      top: 0;
      bottom: 0;
      background: var(--eh-window);
      border-top: 3px solid var(--eh-very-low);
      pointer-events: none;
    }
    .window-cheapest {
      background: var(--eh-cheapest);
      border-top-color: var(--eh-negative);
    }
    .zero {
      position: absolute;
      left: 0;
      right: 0;
      border-top: 1px dashed var(--divider-color, #ccc);
    }
    .now {
      position: absolute;
      top: -4px;
      bottom: 0;
      width: 0;
      border-left: 2px solid var(--primary-color, #03a9f4);
      pointer-events: none;
    }
    .tip {
      position: absolute;
      top: 2px;
      background: var(--card-background-color, #fff);
      color: var(--primary-text-color);
      border: 1px solid var(--divider-color, #ccc);
      border-radius: 4px;
      padding: 2px 6px;
      font-size: 0.8em;
      white-space: nowrap;
      pointer-events: none;
      z-index: 1;
    }
    .axis {
      position: relative;
      height: 1.4em;
      font-size: 0.75em;
      color: var(--secondary-text-color);
    }
    .axis span {
      position: absolute;
      transform: translateX(-50%);
    }
    .mix-row {
      display: grid;
      grid-template-columns: minmax(5em, 9em) 1fr 5.5em;
      align-items: center;
      gap: 8px;
      margin: 3px 0;
      font-size: 0.9em;
    }
    .mix-row .label {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .mix-row .value {
      text-align: right;
      color: var(--secondary-text-color);
    }
    .track {
      height: 10px;
      background: var(--divider-color, #e0e0e0);
      border-radius: 5px;
      overflow: hidden;
    }
    .fill {
      display: block;
      height: 100%;
      background: var(--primary-color, #03a9f4);
    }
    .mix-import .fill,
    .key-import { background: var(--eh-low); }
    .mix-export .fill,
    .key-export { background: var(--eh-high); }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 12px;
      font-size: 0.8em;
      color: var(--secondary-text-color);
      align-items: center;
    }
    .key {
      display: inline-block;
      width: 10px;
      height: 10px;
      border-radius: 2px;
      margin-right: 4px;
    }
    .tiles {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(96px, 1fr));
      gap: 8px;
    }
    .tile {
      display: flex;
      flex-direction: column;
      gap: 2px;
      padding: 8px;
      border-radius: 8px;
      border: 2px solid transparent;
      background: color-mix(in srgb, #f9a825 calc(var(--level) * 85%), var(--secondary-background-color, #eee));
      color: var(--primary-text-color);
      min-height: 64px;
    }
    .tile .name {
      font-size: 0.8em;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .tile .power {
      font-size: 1.2em;
      font-weight: 500;
    }
    .tile .meta {
      font-size: 0.75em;
      color: var(--secondary-text-color);
    }
    .status-offline { border-color: var(--error-color, #db4437); }
    .status-warning { border-color: var(--warning-color, #ffa600); }
    svg {
      width: 100%;
      height: 120px;
      display: block;
    }
    svg .grid {
      stroke: var(--divider-color, #ccc);
      stroke-width: 1;
      vector-effect: non-scaling-stroke;
    }
    svg .line {
      fill: none;
      stroke-width: 2;
      vector-effect: non-scaling-stroke;
    }
    .s-battery_soc { stroke: var(--eh-very-low); background: var(--eh-very-low); }
    .s-battery_power { stroke: #7b1fa2; background: #7b1fa2; }
    .s-pv_power { stroke: #f9a825; background: #f9a825; }
    .s-grid_power { stroke: var(--eh-negative); background: var(--eh-negative); }
    .s-house_power { stroke: var(--primary-text-color); background: var(--primary-text-color); }
    .axis-text {
      display: flex;
      justify-content: space-between;
      font-size: 0.75em;
      color: var(--secondary-text-color);
    }
  `;
}

function define(): void {
  if (!customElements.get(CARD)) customElements.define(CARD, EnergyHubCard);
  defineEditor();
}

// Loaded as an extra module, this file can run before Home Assistant's frontend has installed
// its scoped custom-element registry (which replaces window.customElements): an element defined
// before then is invisible to it. So define once the frontend's root element exists (the
// registry in place then is the one the dashboards use); at once when it already does.
if (customElements.get("home-assistant") || customElements.get("hc-main")) define();
else Promise.race([customElements.whenDefined("home-assistant"), customElements.whenDefined("hc-main")]).then(define);

declare global {
  interface Window {
    customCards?: { type: string; name: string; description: string; preview?: boolean; documentationURL?: string }[];
  }
}
window.customCards = window.customCards ?? [];
if (!window.customCards.some((c) => c.type === CARD)) {
  window.customCards.push({
    type: CARD,
    name: "Energy Hub",
    description: "The next 48 hours of carbon intensity and prices, the grid mix, a plant's microinverters, a battery's days.",
    preview: true,
    documentationURL: "https://github.com/energy-hub/energy-hub",
  });
}
