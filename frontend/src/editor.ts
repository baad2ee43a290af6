// The card's visual editor: Home Assistant's own <ha-form> with selectors, one form per view.
import { LitElement, css, html, nothing, type TemplateResult } from "lit";
import { DOMAIN, type HomeAssistant } from "./data";

type Config = Record<string, unknown> & { view?: string };

const VIEW_OPTIONS = [
  { value: "forecast", label: "Forecast (carbon intensity, prices, windows)" },
  { value: "mix", label: "Grid mix" },
  { value: "plant", label: "Plant (microinverters)" },
  { value: "battery", label: "Battery (last days)" },
];

const LABELS: Record<string, string> = {
  view: "View",
  title: "Title",
  carbon_entity: "Carbon intensity sensor",
  price_entity: "Rate sensor",
  hours: "Hours ahead",
  windows: "More windows (entities with start and end attributes)",
  entity: "Entity of the device to show",
  days: "Days of history",
};

function schema(view: string): Record<string, unknown>[] {
  const ours = (domain = "sensor") => ({ entity: { filter: { integration: DOMAIN, domain } } });
  const common = [
    { name: "view", required: true, selector: { select: { mode: "dropdown", options: VIEW_OPTIONS } } },
    { name: "title", selector: { text: {} } },
  ];
  switch (view) {
    case "mix":
    case "plant":
      return [...common, { name: "entity", required: true, selector: ours() }];
    case "battery":
      return [
        ...common,
        { name: "entity", required: true, selector: ours() },
        { name: "days", selector: { number: { min: 1, max: 7, step: 1, mode: "slider" } } },
      ];
    default:
      return [
        ...common,
        { name: "carbon_entity", selector: ours() },
        { name: "price_entity", selector: ours() },
        { name: "hours", selector: { number: { min: 6, max: 48, step: 6, mode: "slider" } } },
        { name: "windows", selector: { entity: { multiple: true } } },
      ];
  }
}

export class EnergyHubCardEditor extends LitElement {
  declare hass?: HomeAssistant;
  declare _config?: Config;

  static properties = {
    hass: { attribute: false },
    _config: { state: true },
  };

  setConfig(config: Config): void {
    this._config = config;
  }

  protected render(): TemplateResult | typeof nothing {
    if (!this.hass || !this._config) return nothing;
    const view = String(this._config.view ?? "forecast");
    return html`<ha-form
      .hass=${this.hass}
      .data=${{ view, ...this._config }}
      .schema=${schema(view)}
      .computeLabel=${(s: { name: string }) => LABELS[s.name] ?? s.name}
      @value-changed=${this._changed}
    ></ha-form>`;
  }

  private _changed(ev: CustomEvent<{ value: Config }>): void {
    ev.stopPropagation();
    const config: Config = { ...ev.detail.value };
    for (const [key, value] of Object.entries(config)) {
      if (value === "" || value === undefined || (Array.isArray(value) && !value.length)) delete config[key];
    }
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }

  static styles = css`
    :host {
      display: block;
    }
  `;
}

export function defineEditor(): void {
  if (!customElements.get("energy-hub-card-editor")) customElements.define("energy-hub-card-editor", EnergyHubCardEditor);
}
