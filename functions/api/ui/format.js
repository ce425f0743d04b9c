// Formatting for people: instants in a schedule's zone and the viewer's, relative times, durations, and the items a
// validation answer holds. Pure functions (no page access), so node checks them without a browser.

export const VIEWER_TZ = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
})();

export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return rest ? `${m} min ${rest} s` : `${m} min`;
  const hrs = Math.floor(m / 60);
  return `${hrs} h ${m - hrs * 60} min`;
}

const formatters = new Map();
function formatterFor(timeZone, withYear) {
  const key = `${timeZone}|${withYear}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, {
      timeZone,
      weekday: 'short',
      year: withYear ? 'numeric' : undefined,
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(key, f);
  }
  return f;
}

/** An instant in a given IANA zone ("Tue, Nov 25, 2026, 08:00 GMT+1"); falls back to UTC for an unknown zone. */
export function formatInstant(iso, timeZone = VIEWER_TZ, withYear = true) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  try {
    return formatterFor(timeZone || 'UTC', withYear).format(d);
  } catch {
    return formatterFor('UTC', withYear).format(d);
  }
}

export function relativeTime(iso, now = Date.now()) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const seconds = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** Anything the API put in a validation item, as one readable string. */
export function itemText(item) {
  if (item === null || item === undefined) return '';
  if (typeof item !== 'object') return String(item);
  const value = item.value ?? item.text ?? item.match ?? item.name;
  const kind = item.kind ?? item.type;
  if (value !== undefined && kind !== undefined) return `${String(kind).replace(/_/g, ' ')}: ${value}`;
  if (value !== undefined) return String(value);
  try {
    return JSON.stringify(item);
  } catch {
    return '';
  }
}

/** "YYYY-MM-DDTHH:MM" for tomorrow (viewer's calendar) at `hhmm`: what a datetime-local input shows. */
export function isoLocalTomorrowAt(hhmm) {
  const d = new Date(Date.now() + 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${hhmm}`;
}

/** Every IANA zone the browser knows, UTC included. */
export function timeZones() {
  try {
    const zones = Intl.supportedValuesOf('timeZone');
    return zones.includes('UTC') ? zones : ['UTC', ...zones];
  } catch {
    return ['UTC', VIEWER_TZ];
  }
}
