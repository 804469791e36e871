// How values read on the page: salaries, times, addresses, statuses.

/** "USD 120,000 – 150,000", "from USD 90,000", or null when pay is not disclosed. */
export function salaryRange(currency: string, min: string | null, max: string | null): string | null {
  const fmt = (value: string) => {
    try {
      return BigInt(value).toLocaleString("en-US");
    } catch {
      return value;
    }
  };
  const unit = currency ? `${currency} ` : "";
  if (min && max && min !== max) return `${unit}${fmt(min)} – ${fmt(max)}`;
  if (min && max) return `${unit}${fmt(min)}`;
  if (min) return `from ${unit}${fmt(min)}`;
  if (max) return `up to ${unit}${fmt(max)}`;
  return null;
}

/** A short absolute date, "2 Dec 2026". */
export function date(iso: string): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return when.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

/** "3 hours ago", "in 5 days". */
export function relative(iso: string, now = Date.now()): string {
  const when = new Date(iso).getTime();
  if (Number.isNaN(when)) return iso;
  const seconds = Math.round((when - now) / 1000);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["year", 31_536_000],
    ["month", 2_592_000],
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  const format = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(seconds, "second");
}

/** "0x1234…abcd". */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** "SHORTLISTED" → "Shortlisted". */
export function statusLabel(status: string): string {
  return status.charAt(0) + status.slice(1).toLowerCase();
}
