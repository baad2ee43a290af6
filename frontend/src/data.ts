// Pure data shaping: no DOM, no Lit. Everything the views draw is computed here.

export interface HassEntity {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
  last_updated?: string;
}

export interface EntityRegistryDisplayEntry {
  entity_id: string;
  device_id?: string | null;
  platform?: string;
  translation_key?: string | null;
  name?: string | null;
}

export interface DeviceRegistryEntry {
  id: string;
  name?: string | null;
  name_by_user?: string | null;
  via_device_id?: string | null;
  model?: string | null;
}

export interface HomeAssistant {
  states: Record<string, HassEntity>;
  entities?: Record<string, EntityRegistryDisplayEntry>;
  devices?: Record<string, DeviceRegistryEntry>;
  config: { time_zone: string };
  locale?: { language: string };
  language?: string;
  themes?: { darkMode?: boolean };
  callWS<T>(msg: Record<string, unknown>): Promise<T>;
}

export const DOMAIN = "energy_hub";
export const HALF_HOUR = 30 * 60 * 1000;

export type Band = "very_low" | "low" | "moderate" | "high" | "very_high" | "negative" | "unknown";

export interface Bar {
  start: number;
  end: number;
  value: number;
  band: Band;
}

export interface Window {
  start: number;
  end: number;
  label: string;
  entity: string;
}

export const CARBON_BANDS: readonly Band[] = ["very_low", "low", "moderate", "high", "very_high"];

function time(value: unknown): number | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const t = typeof value === "number" ? value : Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

function num(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The carbon forecast: `forecast` items {start|from, end|to, intensity, index}. */
export function carbonBars(entity: HassEntity | undefined, now: number, hours: number): Bar[] {
  const items = entity?.attributes.forecast;
  if (!Array.isArray(items)) return [];
  const horizon = now + hours * 3600 * 1000;
  const bars: Bar[] = [];
  for (const item of items as Record<string, unknown>[]) {
    const start = time(item.start ?? item.from);
    const end = time(item.end ?? item.to);
    const value = num(item.intensity);
    if (start === undefined || end === undefined || value === undefined) continue;
    if (end <= now || start >= horizon) continue;
    const index = String(item.index ?? "");
    bars.push({
      start,
      end,
      value,
      band: (CARBON_BANDS as readonly string[]).includes(index) ? (index as Band) : "unknown",
    });
  }
  return bars.sort((a, b) => a.start - b.start);
}

interface Rate {
  start: number;
  end: number;
  value: number;
}

/** Rates from `rates` ({start, end, value_inc_vat}) or `rates_today` + `rates_tomorrow`
 * ({start, end, value}); a later list wins where two cover the same time. */
export function rates(entity: HassEntity | undefined): Rate[] {
  if (!entity) return [];
  const out: Rate[] = [];
  for (const key of ["rates_today", "rates_tomorrow", "rates"]) {
    const items = entity.attributes[key];
    if (!Array.isArray(items)) continue;
    for (const item of items as Record<string, unknown>[]) {
      const start = time(item.start ?? item.from);
      const end = time(item.end ?? item.to);
      const value = num(item.value_inc_vat ?? item.value);
      if (start === undefined || end === undefined || value === undefined || end <= start) continue;
      out.push({ start, end, value });
    }
  }
  return out;
}

function localDay(t: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(t);
}

/** One bar per half-hour from the current half-hour, coloured against its local day's range. */
export function priceBars(entity: HassEntity | undefined, now: number, hours: number, timeZone: string): Bar[] {
  const all = rates(entity);
  if (!all.length) return [];
  const horizon = now + hours * 3600 * 1000;
  const last = Math.max(...all.map((r) => r.end));
  const bars: Bar[] = [];
  for (let start = Math.floor(now / HALF_HOUR) * HALF_HOUR; start < Math.min(last, horizon); start += HALF_HOUR) {
    let value: number | undefined;
    for (const r of all) if (r.start <= start && start < r.end) value = r.value;
    if (value === undefined) continue;
    bars.push({ start, end: start + HALF_HOUR, value, band: "unknown" });
  }
  // The day's range: every rate of that local day (past half-hours too), not only the bars shown.
  const range = new Map<string, [number, number]>();
  for (const r of all) {
    const day = localDay(r.start, timeZone);
    const [lo, hi] = range.get(day) ?? [Infinity, -Infinity];
    range.set(day, [Math.min(lo, r.value), Math.max(hi, r.value)]);
  }
  for (const bar of bars) {
    if (bar.value < 0) {
      bar.band = "negative";
      continue;
    }
    const [lo, hi] = range.get(localDay(bar.start, timeZone)) ?? [bar.value, bar.value];
    const pos = hi > lo ? (bar.value - Math.max(lo, 0)) / (hi - Math.max(lo, 0)) : 0.5;
    bar.band = CARBON_BANDS[Math.min(4, Math.max(0, Math.floor(pos * 5)))];
  }
  return bars;
}

/** A window from an entity's `start`/`end` attributes, if it has both. */
export function windowOf(entity: HassEntity | undefined, label: string): Window | undefined {
  if (!entity) return undefined;
  const start = time(entity.attributes.start);
  const end = time(entity.attributes.end);
  if (start === undefined || end === undefined || end <= start) return undefined;
  return { start, end, label, entity: entity.entity_id };
}

/** Runs of bars at their local day's lowest rate (of the whole day, past half-hours too). */
export function cheapestWindows(entity: HassEntity | undefined, bars: Bar[], timeZone: string): Window[] {
  const lows = new Map<string, number>();
  for (const r of rates(entity)) {
    const day = localDay(r.start, timeZone);
    lows.set(day, Math.min(lows.get(day) ?? Infinity, r.value));
  }
  const out: Window[] = [];
  for (const b of bars) {
    if (b.value !== lows.get(localDay(b.start, timeZone))) continue;
    const last = out[out.length - 1];
    if (last && last.end === b.start) last.end = b.end;
    else out.push({ start: b.start, end: b.end, label: "cheapest", entity: entity?.entity_id ?? "" });
  }
  return out;
}

// --- registry look-ups --------------------------------------------------------------------

export function deviceOf(hass: HomeAssistant, entityId: string | undefined): string | undefined {
  if (!entityId) return undefined;
  return hass.entities?.[entityId]?.device_id ?? undefined;
}

/** Energy Hub entities of a device, keyed by translation key (the metric). */
export function deviceEntities(hass: HomeAssistant, deviceId: string | undefined): EntityRegistryDisplayEntry[] {
  if (!deviceId) return [];
  return Object.values(hass.entities ?? {}).filter((e) => e.device_id === deviceId && e.platform === DOMAIN);
}

export function sibling(hass: HomeAssistant, entityId: string | undefined, key: string): string | undefined {
  return deviceEntities(hass, deviceOf(hass, entityId)).find((e) => e.translation_key === key)?.entity_id;
}

export function deviceName(hass: HomeAssistant, deviceId: string | undefined): string {
  const device = deviceId ? hass.devices?.[deviceId] : undefined;
  return device?.name_by_user || device?.name || "";
}

export function entityLabel(hass: HomeAssistant, entityId: string): string {
  const friendly = String(hass.states[entityId]?.attributes.friendly_name ?? entityId);
  const device = deviceName(hass, deviceOf(hass, entityId));
  const name = device && friendly.startsWith(device + " ") ? friendly.slice(device.length + 1) : friendly;
  // "Gas share", "Wind generation", "France (IFA) interconnector": the kind is the section's.
  return name.replace(/ (share|generation|interconnector)$/i, "") || name;
}

export interface MixPart {
  entity: string;
  label: string;
  value: number;
  unit: string;
  share: number;
}

export interface Mix {
  fuels: MixPart[];
  imports: MixPart[];
  exports: MixPart[];
}

/** The generation mix of a Carbon Intensity (shares, %) or Elexon (MW) device. */
export function mixOf(hass: HomeAssistant, entityId: string | undefined): Mix {
  const parts = (prefixes: string[]): MixPart[] =>
    deviceEntities(hass, deviceOf(hass, entityId))
      .filter((e) => prefixes.some((p) => (e.translation_key ?? "").startsWith(p)))
      .map((e) => {
        const state = hass.states[e.entity_id];
        return {
          entity: e.entity_id,
          label: entityLabel(hass, e.entity_id),
          value: num(state?.state) ?? NaN,
          unit: String(state?.attributes.unit_of_measurement ?? ""),
          share: 0,
        };
      })
      .filter((p) => Number.isFinite(p.value));
  const fuels = parts(["share_", "generation_"]).filter((p) => p.value > 0);
  const links = parts(["interconnector"]);
  // Interconnectors: positive flows into GB (imports), negative out of it (exports).
  const imports = links.filter((p) => p.value > 0);
  const exports = links.filter((p) => p.value < 0).map((p) => ({ ...p, value: -p.value }));
  const percent = fuels.every((p) => p.unit === "%");
  const total = fuels.reduce((sum, p) => sum + p.value, 0) + (percent ? 0 : imports.reduce((s, p) => s + p.value, 0));
  for (const p of fuels) p.share = percent ? p.value : total ? (100 * p.value) / total : 0;
  for (const p of imports) p.share = percent || !total ? 0 : (100 * p.value) / total;
  const byValue = (a: MixPart, b: MixPart) => b.value - a.value;
  return { fuels: fuels.sort(byValue), imports: imports.sort(byValue), exports: exports.sort(byValue) };
}

export interface Tile {
  device: string;
  name: string;
  power?: number;
  status?: string;
  temperature?: number;
  powerEntity?: string;
}

/** The microinverters (and other producing devices) under a plant's device. */
export function plantTiles(hass: HomeAssistant, entityId: string | undefined): Tile[] {
  const plant = deviceOf(hass, entityId);
  if (!plant) return [];
  const devices = hass.devices ?? {};
  const under = (id: string): boolean => {
    const seen = new Set<string>();
    let parent = devices[id]?.via_device_id;
    while (parent && !seen.has(parent)) {
      if (parent === plant) return true;
      seen.add(parent);
      parent = devices[parent]?.via_device_id;
    }
    return false;
  };
  const tiles: Tile[] = [];
  for (const id of Object.keys(devices).filter(under)) {
    const ents = deviceEntities(hass, id);
    const find = (key: string) => ents.find((e) => e.translation_key === key)?.entity_id;
    const powerEntity = find("pv_power");
    if (!powerEntity) continue;
    const statusEntity = find("device_status");
    const tempEntity = find("inverter_temperature");
    tiles.push({
      device: id,
      name: deviceName(hass, id),
      powerEntity,
      power: num(hass.states[powerEntity]?.state),
      status: statusEntity ? hass.states[statusEntity]?.state : undefined,
      temperature: tempEntity ? num(hass.states[tempEntity]?.state) : undefined,
    });
  }
  return tiles.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}

export const BATTERY_SERIES = ["battery_soc", "battery_power", "pv_power", "grid_power", "house_power"] as const;

export type Point = [number, number];

/** Points from a `history/history_during_period` answer (compressed states: s, lu / lc). */
export function historyPoints(rows: unknown): Point[] {
  if (!Array.isArray(rows)) return [];
  const out: Point[] = [];
  for (const row of rows as Record<string, unknown>[]) {
    const value = num(row.s ?? row.state);
    const t = num(row.lu ?? row.lc);
    const at = t !== undefined ? t * 1000 : time(row.last_updated ?? row.last_changed);
    if (value !== undefined && at !== undefined) out.push([at, value]);
  }
  return out;
}
