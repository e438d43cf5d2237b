//! `Intl.DateTimeFormat` for the guest, which has no ICU: en-US output as
//! V8 with ICU prints it (Node 20+), computed with `jiff` and its bundled
//! time zone database.
//!
//! Only what can be reproduced exactly is supported. Everything else (other
//! locales, odd combinations of components for which ICU improvises, time
//! zone names without known en-US text) is an error naming what is
//! supported, never a silently different string.
//!
//! Two deliberate differences from Node 20: `hour12: false` means h23, as
//! ECMA-402 says since 2024 (Node 20 uses h24 and prints "24:05" after
//! midnight), and time zone links resolve to their primary IANA name
//! ("Asia/Calcutta" is "Asia/Kolkata"; Node 20 keeps ICU's legacy names).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{self, TimeZone};

// ---------------------------------------------------------------- options

/// The option names of `Intl.DateTimeFormat`, in the order the JS side
/// passes their values (each converted to a string, or undefined).
pub const DATE_OPTION_FIELDS: [&str; 15] = [
    "timeZone",
    "hour12",
    "hourCycle",
    "weekday",
    "era",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "fractionalSecondDigits",
    "timeZoneName",
    "dateStyle",
    "timeStyle",
];

/// The locales this module formats for, for error messages.
pub const SUPPORTED_LOCALES: &str = "en-US (also as en or undefined)";

/// Which components are added when the options name none, and which
/// options are refused, as in ECMA-402's ToDateTimeOptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defaults {
    /// `Date.prototype.toLocaleString`: date and time.
    DateTime,
    /// `Date.prototype.toLocaleDateString`: the date (time components may be added to it).
    Date,
    /// `Date.prototype.toLocaleTimeString`: the time (date components may be added to it).
    Time,
    /// `Intl.DateTimeFormat`: the date, unless any date or time component is given.
    Format,
}

impl Defaults {
    /// The variant named by the JS side: 'datetime', 'date', 'time' or 'format'.
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name {
            "datetime" => Ok(Self::DateTime),
            "date" => Ok(Self::Date),
            "time" => Ok(Self::Time),
            "format" => Ok(Self::Format),
            _ => Err(format!(
                "unknown defaults kind {name:?}: expected datetime, date, time or format"
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
    Numeric,
    TwoDigit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Text {
    Long,
    Short,
    Narrow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Month {
    Num(Num),
    Text(Text),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HourCycle {
    H11,
    H12,
    H23,
    H24,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Full,
    Long,
    Medium,
    Short,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ZoneName {
    Short,
    Long,
    ShortOffset,
    LongOffset,
}

const NUM: &[(&str, Num)] = &[("numeric", Num::Numeric), ("2-digit", Num::TwoDigit)];
const TEXT: &[(&str, Text)] = &[
    ("long", Text::Long),
    ("short", Text::Short),
    ("narrow", Text::Narrow),
];
const MONTH: &[(&str, Month)] = &[
    ("numeric", Month::Num(Num::Numeric)),
    ("2-digit", Month::Num(Num::TwoDigit)),
    ("long", Month::Text(Text::Long)),
    ("short", Month::Text(Text::Short)),
    ("narrow", Month::Text(Text::Narrow)),
];
const HOUR_CYCLE: &[(&str, HourCycle)] = &[
    ("h11", HourCycle::H11),
    ("h12", HourCycle::H12),
    ("h23", HourCycle::H23),
    ("h24", HourCycle::H24),
];
const STYLE: &[(&str, Style)] = &[
    ("full", Style::Full),
    ("long", Style::Long),
    ("medium", Style::Medium),
    ("short", Style::Short),
];
const BOOL: &[(&str, bool)] = &[("true", true), ("false", false)];
const FRACTION: &[(&str, u8)] = &[("1", 1), ("2", 2), ("3", 3)];
const ZONE_NAME: &[(&str, ZoneName)] = &[
    ("short", ZoneName::Short),
    ("long", ZoneName::Long),
    ("shortOffset", ZoneName::ShortOffset),
    ("longOffset", ZoneName::LongOffset),
];

/// The options of one `Intl.DateTimeFormat`, validated.
#[derive(Clone, Debug)]
pub struct DateOptions {
    zone: TimeZone,
    zone_id: String,
    hour12: Option<bool>,
    hour_cycle: Option<HourCycle>,
    weekday: Option<Text>,
    era: Option<Text>,
    year: Option<Num>,
    month: Option<Month>,
    day: Option<Num>,
    hour: Option<Num>,
    minute: Option<Num>,
    second: Option<Num>,
    fraction: Option<u8>,
    zone_name: Option<ZoneName>,
    date_style: Option<Style>,
    time_style: Option<Style>,
}

impl DateOptions {
    /// Reads the option values given in `DATE_OPTION_FIELDS` order.
    pub fn from_fields(fields: &[Option<String>]) -> Result<Self, String> {
        if fields.len() != DATE_OPTION_FIELDS.len() {
            return Err(format!(
                "expected {} date option fields, got {}",
                DATE_OPTION_FIELDS.len(),
                fields.len()
            ));
        }
        let field = |i: usize| fields[i].as_deref();
        let zone_id = match field(0) {
            None => "UTC".to_string(),
            Some(name) => canonical_time_zone(name)?,
        };
        let zone = match crate::tzdb::lookup(&zone_id) {
            Some((_, zone)) => zone,
            None => return Err(format!("Invalid time zone specified: {zone_id}")),
        };
        if let Some(name @ ("shortGeneric" | "longGeneric")) = field(12) {
            return Err(format!(
                "timeZoneName '{name}' is not supported; use 'short', 'long', 'shortOffset' or 'longOffset'"
            ));
        }
        if let Some(digits @ ("0" | "4")) = field(11) {
            return Err(format!(
                "fractionalSecondDigits value is out of range: {digits}"
            ));
        }
        Ok(Self {
            zone,
            zone_id,
            hour12: pick(field(1), "hour12", BOOL)?,
            hour_cycle: pick(field(2), "hourCycle", HOUR_CYCLE)?,
            weekday: pick(field(3), "weekday", TEXT)?,
            era: pick(field(4), "era", TEXT)?,
            year: pick(field(5), "year", NUM)?,
            month: pick(field(6), "month", MONTH)?,
            day: pick(field(7), "day", NUM)?,
            hour: pick(field(8), "hour", NUM)?,
            minute: pick(field(9), "minute", NUM)?,
            second: pick(field(10), "second", NUM)?,
            fraction: pick(field(11), "fractionalSecondDigits", FRACTION)?,
            zone_name: pick(field(12), "timeZoneName", ZONE_NAME)?,
            date_style: pick(field(13), "dateStyle", STYLE)?,
            time_style: pick(field(14), "timeStyle", STYLE)?,
        })
    }
}

fn pick<T: Copy>(
    value: Option<&str>,
    name: &str,
    allowed: &[(&str, T)],
) -> Result<Option<T>, String> {
    let Some(value) = value else { return Ok(None) };
    match allowed.iter().find(|(key, _)| *key == value) {
        Some((_, v)) => Ok(Some(*v)),
        None => Err(format!(
            "Value {value} out of range for Intl.DateTimeFormat options property {name}"
        )),
    }
}

fn name_of<T: Copy + PartialEq>(value: T, table: &[(&'static str, T)]) -> &'static str {
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map(|(k, _)| *k)
        .unwrap_or("")
}

// ------------------------------------------------------------- resolution

/// The components one format shows, after defaults and ICU's adjustments.
#[derive(Clone, Copy, Debug, Default)]
struct Resolved {
    weekday: Option<Text>,
    era: Option<Text>,
    year: Option<Num>,
    month: Option<Month>,
    day: Option<Num>,
    hour: Option<(Num, HourCycle)>,
    minute: Option<Num>,
    second: Option<Num>,
    fraction: Option<u8>,
    zone_name: Option<ZoneName>,
}

const UNSUPPORTED_DATE: &str = "this combination of date components is not supported; \
    use year, month and day (any of them, but not year and day without month), \
    optionally with weekday (with month and day) and era (with year, or month and day)";
const UNSUPPORTED_TIME: &str = "this combination of time components is not supported; \
    use hour, minute and second without gaps (hour with second needs minute), \
    and fractionalSecondDigits with second or minute";

impl DateOptions {
    fn resolve(&self, defaults: Defaults) -> Result<Resolved, String> {
        let o = self;
        let has_date =
            o.weekday.is_some() || o.year.is_some() || o.month.is_some() || o.day.is_some();
        let has_time =
            o.hour.is_some() || o.minute.is_some() || o.second.is_some() || o.fraction.is_some();
        let styled = o.date_style.is_some() || o.time_style.is_some();
        if styled {
            let given = [
                ("weekday", o.weekday.is_some()),
                ("era", o.era.is_some()),
                ("year", o.year.is_some()),
                ("month", o.month.is_some()),
                ("day", o.day.is_some()),
                ("hour", o.hour.is_some()),
                ("minute", o.minute.is_some()),
                ("second", o.second.is_some()),
                ("fractionalSecondDigits", o.fraction.is_some()),
                ("timeZoneName", o.zone_name.is_some()),
            ];
            if let Some((name, _)) = given.iter().find(|(_, set)| *set) {
                let style = if o.date_style.is_some() {
                    "dateStyle"
                } else {
                    "timeStyle"
                };
                return Err(format!("Can't set option {name} when {style} is used"));
            }
            if defaults == Defaults::Date && o.time_style.is_some() {
                return Err("Invalid option : timeStyle".to_string());
            }
            if defaults == Defaults::Time && o.date_style.is_some() {
                return Err("Invalid option : dateStyle".to_string());
            }
        }
        let mut r = Resolved {
            weekday: o.weekday,
            era: o.era,
            year: o.year,
            month: o.month,
            day: o.day,
            zone_name: o.zone_name,
            ..Resolved::default()
        };
        let (mut hour, mut minute, mut second, fraction) = (o.hour, o.minute, o.second, o.fraction);
        if let Some(style) = o.date_style {
            r.year = Some(if style == Style::Short {
                Num::TwoDigit
            } else {
                Num::Numeric
            });
            r.month = Some(match style {
                Style::Full | Style::Long => Month::Text(Text::Long),
                Style::Medium => Month::Text(Text::Short),
                Style::Short => Month::Num(Num::Numeric),
            });
            r.day = Some(Num::Numeric);
            r.weekday = (style == Style::Full).then_some(Text::Long);
        }
        if let Some(style) = o.time_style {
            hour = Some(Num::Numeric);
            minute = Some(Num::TwoDigit);
            second = (style != Style::Short).then_some(Num::TwoDigit);
            r.zone_name = match style {
                Style::Full => Some(ZoneName::Long),
                Style::Long => Some(ZoneName::Short),
                _ => None,
            };
        }
        if !styled {
            let need_date = matches!(
                defaults,
                Defaults::Date | Defaults::DateTime | Defaults::Format
            ) && !has_date
                && (defaults == Defaults::Date || !has_time);
            let need_time = matches!(defaults, Defaults::Time | Defaults::DateTime)
                && !has_time
                && (defaults == Defaults::Time || !has_date);
            if need_date {
                (r.year, r.month, r.day) = (
                    Some(Num::Numeric),
                    Some(Month::Num(Num::Numeric)),
                    Some(Num::Numeric),
                );
            }
            if need_time {
                (hour, minute, second) =
                    (Some(Num::Numeric), Some(Num::Numeric), Some(Num::Numeric));
            }
        }

        // Date: the combinations for which en-US has a pattern.
        let ymd = (r.year.is_some(), r.month.is_some(), r.day.is_some());
        if ymd == (true, false, true)
            || (r.weekday.is_some()
                && !matches!(
                    ymd,
                    (false, false, false) | (false, true, true) | (true, true, true)
                ))
            || (r.era.is_some() && !matches!(ymd, (true, _, _) | (false, true, true)))
        {
            return Err(UNSUPPORTED_DATE.to_string());
        }

        // Time: ICU shows minutes and seconds next to another field with
        // two digits, and a 24-hour hour always with two.
        if let Some(width) = hour {
            let cycle = match (o.hour12, o.hour_cycle) {
                (Some(true), _) => HourCycle::H12,
                (Some(false), _) => HourCycle::H23,
                (None, Some(cycle)) => cycle,
                (None, None) => HourCycle::H12,
            };
            let width = if matches!(cycle, HourCycle::H23 | HourCycle::H24) {
                Num::TwoDigit
            } else {
                width
            };
            r.hour = Some((width, cycle));
            if second.is_some() && minute.is_none() {
                return Err(UNSUPPORTED_TIME.to_string());
            }
        }
        if fraction.is_some() {
            match (hour, minute, second) {
                (_, Some(_), _) => second = Some(Num::TwoDigit),
                (None, None, Some(Num::Numeric)) => {}
                _ => return Err(UNSUPPORTED_TIME.to_string()),
            }
        }
        // A minute or second next to another time field has two digits.
        let shown = usize::from(hour.is_some())
            + usize::from(minute.is_some())
            + usize::from(second.is_some());
        let width = if shown > 1 {
            Num::TwoDigit
        } else {
            Num::Numeric
        };
        r.minute = minute.map(|_| width);
        r.second = second.map(|_| width);
        r.fraction = fraction;
        Ok(r)
    }
}

/// The options as `resolvedOptions()` reports them, in `DATE_OPTION_FIELDS`
/// order: the canonical time zone, the hour cycle (with `hour12`) when an
/// hour is shown, the styles or else the components shown.
pub fn resolve_date_options(
    locale: &str,
    options: &DateOptions,
    defaults: Defaults,
) -> Result<Vec<Option<String>>, String> {
    check_locale(locale)?;
    let r = options.resolve(defaults)?;
    let s = |v: &'static str| Some(v.to_string());
    let mut out = vec![None; DATE_OPTION_FIELDS.len()];
    out[0] = Some(options.zone_id.clone());
    if let Some((_, cycle)) = r.hour {
        out[1] = s(if matches!(cycle, HourCycle::H11 | HourCycle::H12) {
            "true"
        } else {
            "false"
        });
        out[2] = s(name_of(cycle, HOUR_CYCLE));
    }
    if options.date_style.is_some() || options.time_style.is_some() {
        out[13] = options.date_style.map(|v| name_of(v, STYLE).to_string());
        out[14] = options.time_style.map(|v| name_of(v, STYLE).to_string());
        return Ok(out);
    }
    out[3] = r.weekday.map(|v| name_of(v, TEXT).to_string());
    out[4] = r.era.map(|v| name_of(v, TEXT).to_string());
    out[5] = r.year.map(|v| name_of(v, NUM).to_string());
    out[6] = r.month.map(|v| name_of(v, MONTH).to_string());
    out[7] = r.day.map(|v| name_of(v, NUM).to_string());
    out[8] = r.hour.map(|(v, _)| name_of(v, NUM).to_string());
    out[9] = r.minute.map(|v| name_of(v, NUM).to_string());
    out[10] = r.second.map(|v| name_of(v, NUM).to_string());
    out[11] = r.fraction.map(|v| v.to_string());
    out[12] = r.zone_name.map(|v| name_of(v, ZONE_NAME).to_string());
    Ok(out)
}

// ------------------------------------------------------------- formatting

/// Formats `epoch_ms` (a JS time value) for `locale` as V8 with ICU does
/// for en-US. A time value that is not finite or out of range formats as
/// "Invalid Date" for `toLocale*String` and is the error "Invalid time
/// value" for `Intl.DateTimeFormat` (`Defaults::Format`).
pub fn format_date(
    epoch_ms: f64,
    locale: &str,
    options: &DateOptions,
    defaults: Defaults,
) -> Result<String, String> {
    let parts = format_date_to_parts(epoch_ms, locale, options, defaults)?;
    Ok(parts
        .into_iter()
        .map(|(_, value)| value.replace(NARROW_NBSP, " "))
        .collect())
}

// ICU puts a narrow no-break space before AM and PM; V8 turns it into a
// plain space in `format`, but not in `formatToParts`.
const NARROW_NBSP: char = '\u{202f}';

/// The same formatting as `format_date`, as `formatToParts` reports it:
/// (type, value) pairs, such as ("month", "11") and ("literal", "/"); as
/// in V8, the literal before AM/PM is a narrow no-break space (U+202F).
pub fn format_date_to_parts(
    epoch_ms: f64,
    locale: &str,
    options: &DateOptions,
    defaults: Defaults,
) -> Result<Vec<(&'static str, String)>, String> {
    check_locale(locale)?;
    let r = options.resolve(defaults)?;
    if !epoch_ms.is_finite() || epoch_ms.abs() > 8.64e15 {
        return match defaults {
            Defaults::Format => Err("Invalid time value".to_string()),
            _ => Ok(vec![("literal", "Invalid Date".to_string())]),
        };
    }
    let ms = epoch_ms.trunc() as i64;
    // jiff covers the years -9999 to 9999, JS about ±275,760: other
    // instants move by whole 400-year cycles, which repeat the calendar.
    const CYCLE_MS: i64 = 146_097 * 86_400_000;
    const LOW: i64 = -377_000_000_000_000;
    const HIGH: i64 = 253_400_000_000_000;
    let cycles = if ms > HIGH {
        -(ms - HIGH).div_euclid(CYCLE_MS) - 1
    } else if ms < LOW {
        (LOW - ms).div_euclid(CYCLE_MS) + 1
    } else {
        0
    };
    let ts = Timestamp::from_millisecond(ms + cycles * CYCLE_MS).map_err(|e| e.to_string())?;
    let info = options.zone.to_offset_info(ts);
    let dt = options.zone.to_datetime(ts);
    let year = i64::from(dt.year()) - 400 * cycles;
    let mut p = Parts(Vec::new());
    let has_date = r.year.is_some() || r.month.is_some() || r.day.is_some() || r.weekday.is_some();
    let has_time =
        r.hour.is_some() || r.minute.is_some() || r.second.is_some() || r.fraction.is_some();
    if has_date {
        date_parts(&mut p, &r, dt, year);
    }
    // Date and time join as in CLDR's dateTimeFormats: "at" after a long
    // month, a space after a lone weekday, a comma otherwise.
    let glue = if r.month == Some(Month::Text(Text::Long)) {
        " at "
    } else if r.weekday.is_some() && r.year.is_none() && r.month.is_none() && has_time {
        " "
    } else {
        ", "
    };
    if has_time {
        if has_date {
            p.literal(glue);
        }
        time_parts(&mut p, &r, dt, ms.rem_euclid(1000));
    }
    if let Some(style) = r.zone_name {
        let name = zone_name(options, style, ms, &info)?;
        p.literal(if has_time { " " } else { glue });
        p.push("timeZoneName", name);
    }
    Ok(p.0)
}

/// Formatted parts, with adjacent literals merged as ICU does.
struct Parts(Vec<(&'static str, String)>);

impl Parts {
    fn push(&mut self, kind: &'static str, value: String) {
        self.0.push((kind, value));
    }

    fn literal(&mut self, text: &str) {
        match self.0.last_mut() {
            Some(("literal", last)) => last.push_str(text),
            _ => self.0.push(("literal", text.to_string())),
        }
    }

    fn number(&mut self, kind: &'static str, value: i64, width: Num) {
        let text = match width {
            Num::Numeric => value.to_string(),
            Num::TwoDigit => format!("{:02}", value.rem_euclid(100)),
        };
        self.push(kind, text);
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn text(name: &str, width: Text) -> String {
    match width {
        Text::Long => name.to_string(),
        Text::Short => name[..3].to_string(),
        Text::Narrow => name[..1].to_string(),
    }
}

// M/d/y, MMM d, y and their subsets, after an optional weekday and
// followed by an optional era.
fn date_parts(p: &mut Parts, r: &Resolved, dt: DateTime, year: i64) {
    let (month, day) = (i64::from(dt.month()), i64::from(dt.day()));
    // ICU shows the year of the era: 1 BC is year 1.
    let era_year = if year > 0 { year } else { 1 - year };
    if let Some(width) = r.weekday {
        let index = dt.weekday().to_monday_zero_offset() as usize;
        p.push("weekday", text(WEEKDAYS[index], width));
        if r.month.is_some() {
            p.literal(", ");
        }
    }
    let month_part = |p: &mut Parts, width: Month| match width {
        Month::Num(n) => p.number("month", month, n),
        Month::Text(t) => p.push("month", text(MONTHS[month as usize - 1], t)),
    };
    let textual = matches!(r.month, Some(Month::Text(_)));
    if let Some(m) = r.month {
        month_part(p, m);
        if r.day.is_some() || r.year.is_some() {
            p.literal(if textual { " " } else { "/" });
        }
    }
    if let Some(d) = r.day {
        p.number("day", day, d);
        if r.year.is_some() {
            p.literal(if textual { ", " } else { "/" });
        }
    }
    if let Some(y) = r.year {
        p.number("year", era_year, y);
    }
    if let Some(width) = r.era {
        p.literal(" ");
        let names = if year > 0 {
            ["Anno Domini", "AD", "A"]
        } else {
            ["Before Christ", "BC", "B"]
        };
        p.push("era", names[width as usize].to_string());
    }
}

// h:mm:ss.SSS a and its subsets.
fn time_parts(p: &mut Parts, r: &Resolved, dt: DateTime, millis: i64) {
    let (hour, minute, second) = (
        i64::from(dt.hour()),
        i64::from(dt.minute()),
        i64::from(dt.second()),
    );
    let mut sep = "";
    if let Some((width, cycle)) = r.hour {
        let shown = match cycle {
            HourCycle::H11 => hour % 12,
            HourCycle::H12 => (hour + 11) % 12 + 1,
            HourCycle::H23 => hour,
            HourCycle::H24 => (hour + 23) % 24 + 1,
        };
        p.number("hour", shown, width);
        sep = ":";
    }
    if let Some(width) = r.minute {
        p.literal(sep);
        p.number("minute", minute, width);
        sep = ":";
    }
    if let Some(width) = r.second {
        p.literal(sep);
        p.number("second", second, width);
    }
    if let Some(digits) = r.fraction {
        p.literal(".");
        let value = format!("{millis:03}");
        p.push("fractionalSecond", value[..usize::from(digits)].to_string());
    }
    if let Some((_, HourCycle::H11 | HourCycle::H12)) = r.hour {
        p.push("literal", NARROW_NBSP.to_string());
        p.push(
            "dayPeriod",
            (if hour < 12 { "AM" } else { "PM" }).to_string(),
        );
    }
}

// ------------------------------------------------------------- time zones

/// The canonical name of a time zone: "asia/shanghai" is "Asia/Shanghai",
/// links resolve to their primary zone ("US/Eastern" is
/// "America/New_York") and the names of UTC ("Etc/UTC", "GMT") are "UTC".
pub fn canonical_time_zone(name: &str) -> Result<String, String> {
    let invalid = || format!("Invalid time zone specified: {name}");
    let (_, zone) = crate::tzdb::lookup(name).ok_or_else(invalid)?;
    if zone
        .to_fixed_offset()
        .is_ok_and(|offset| offset.seconds() == 0)
        && matches!(zone.iana_name(), Some(n) if is_utc_alias(n))
    {
        return Ok("UTC".to_string());
    }
    zone.primary_iana_name()
        .or(zone.iana_name())
        .map(str::to_string)
        .ok_or_else(invalid)
}

fn is_utc_alias(name: &str) -> bool {
    const ALIASES: [&str; 14] = [
        "UTC",
        "Etc/UTC",
        "Etc/UCT",
        "UCT",
        "Etc/Universal",
        "Universal",
        "Etc/Zulu",
        "Zulu",
        "Etc/GMT",
        "GMT",
        "Etc/GMT0",
        "GMT0",
        "Etc/Greenwich",
        "Greenwich",
    ];
    ALIASES.iter().any(|alias| alias.eq_ignore_ascii_case(name))
        || matches!(name, "Etc/GMT+0" | "Etc/GMT-0" | "GMT+0" | "GMT-0")
}

/// North American metazones, which en-US names in short too: (standard
/// offset in hours, short standard and daylight names, long name stem).
const NORTH_AMERICA: &[(i32, &str, &str, &str)] = &[
    (-4, "AST", "ADT", "Atlantic"),
    (-5, "EST", "EDT", "Eastern"),
    (-6, "CST", "CDT", "Central"),
    (-7, "MST", "MDT", "Mountain"),
    (-8, "PST", "PDT", "Pacific"),
    (-9, "AKST", "AKDT", "Alaska"),
    (-10, "HST", "HDT", "Hawaii-Aleutian"),
];

// Zones in North America whose tz abbreviation is one of the above but
// whose ICU metazone is another (Cuba, Mexican Pacific, Yukon since 2020):
// (zone, abbreviation or "" for all).
const NOT_NORTH_AMERICA: &[(&str, &str)] = &[
    ("America/Havana", ""),
    ("America/Mazatlan", ""),
    ("America/Hermosillo", ""),
    ("America/Dawson", "MST"),
    ("America/Whitehorse", "MST"),
];

/// Long names of other metazones, keyed by tz abbreviation and the zones
/// using it for that metazone: (abbreviation, zone prefixes, long name).
const LONG_NAMES: &[(&str, &[&str], &str)] = &[
    ("GMT", &[""], "Greenwich Mean Time"),
    ("BST", &["Europe/London"], "British Summer Time"),
    ("IST", &["Europe/Dublin"], "Irish Standard Time"),
    (
        "CET",
        &["Europe/", "Africa/Algiers", "Africa/Tunis", "Arctic/"],
        "Central European Standard Time",
    ),
    (
        "CEST",
        &["Europe/", "Arctic/"],
        "Central European Summer Time",
    ),
    (
        "EET",
        &[
            "Europe/",
            "Africa/Cairo",
            "Africa/Tripoli",
            "Asia/Beirut",
            "Asia/Nicosia",
            "Asia/Famagusta",
        ],
        "Eastern European Standard Time",
    ),
    (
        "EEST",
        &[
            "Europe/",
            "Africa/Cairo",
            "Asia/Beirut",
            "Asia/Nicosia",
            "Asia/Famagusta",
        ],
        "Eastern European Summer Time",
    ),
    (
        "WET",
        &["Europe/Lisbon", "Atlantic/"],
        "Western European Standard Time",
    ),
    (
        "WEST",
        &["Europe/Lisbon", "Atlantic/"],
        "Western European Summer Time",
    ),
    (
        "MSK",
        &["Europe/Moscow", "Europe/Simferopol"],
        "Moscow Standard Time",
    ),
    ("IST", &["Asia/Jerusalem"], "Israel Standard Time"),
    ("IDT", &["Asia/Jerusalem"], "Israel Daylight Time"),
    ("SAST", &["Africa/"], "South Africa Standard Time"),
    ("WAT", &["Africa/"], "West Africa Time"),
    (
        "CAT",
        &[
            "Africa/Maputo",
            "Africa/Harare",
            "Africa/Lusaka",
            "Africa/Blantyre",
            "Africa/Bujumbura",
            "Africa/Gaborone",
            "Africa/Kigali",
            "Africa/Lubumbashi",
            "Africa/Juba",
            "Africa/Khartoum",
        ],
        "Central Africa Time",
    ),
    ("EAT", &["Africa/", "Indian/"], "East Africa Time"),
    ("PKT", &["Asia/Karachi"], "Pakistan Standard Time"),
    ("IST", &["Asia/Kolkata"], "India Standard Time"),
    ("WIB", &["Asia/"], "Western Indonesia Time"),
    ("CST", &["Asia/Shanghai"], "China Standard Time"),
    ("CST", &["Asia/Taipei"], "Taiwan Standard Time"),
    ("HKT", &["Asia/Hong_Kong"], "Hong Kong Standard Time"),
    ("PST", &["Asia/Manila"], "Philippine Standard Time"),
    ("JST", &["Asia/Tokyo"], "Japan Standard Time"),
    ("KST", &["Asia/Seoul"], "Korean Standard Time"),
    ("AWST", &["Australia/"], "Australian Western Standard Time"),
    ("ACST", &["Australia/"], "Australian Central Standard Time"),
    ("ACDT", &["Australia/"], "Australian Central Daylight Time"),
    (
        "AEST",
        &["Australia/", "Antarctica/Macquarie"],
        "Australian Eastern Standard Time",
    ),
    (
        "AEDT",
        &["Australia/", "Antarctica/Macquarie"],
        "Australian Eastern Daylight Time",
    ),
    (
        "NZST",
        &["Pacific/Auckland", "Antarctica/"],
        "New Zealand Standard Time",
    ),
    (
        "NZDT",
        &["Pacific/Auckland", "Antarctica/"],
        "New Zealand Daylight Time",
    ),
];

const AMERICA: &[&str] = &[
    "America/",
    "Pacific/Honolulu",
    "Atlantic/Bermuda",
    "EST5EDT",
    "CST6CDT",
    "MST7MDT",
    "PST8PDT",
];

// The name of the zone at one instant. ICU names metazones only from 1970
// to 9999 (but for British and Irish summer time); otherwise, and for zones
// without en-US names, it shows the offset.
fn zone_name(
    o: &DateOptions,
    style: ZoneName,
    ms: i64,
    info: &tz::TimeZoneOffsetInfo,
) -> Result<String, String> {
    let (offset, abbreviation, dst) = (
        info.offset().seconds(),
        info.abbreviation(),
        info.dst().is_dst(),
    );
    let id = o.zone_id.as_str();
    let named = (0..253_402_300_800_000).contains(&ms);
    let american = named
        && AMERICA.iter().any(|prefix| id.starts_with(prefix))
        && !NOT_NORTH_AMERICA
            .iter()
            .any(|(zone, abbr)| *zone == id && (abbr.is_empty() || *abbr == abbreviation))
        && NORTH_AMERICA
            .iter()
            .any(|(_, std, daylight, _)| abbreviation == *std || abbreviation == *daylight);
    let standard_hours = (offset - if dst { 3600 } else { 0 }) / 3600;
    let north_america = NORTH_AMERICA
        .iter()
        .find(|(hours, ..)| american && *hours == standard_hours);
    Ok(match style {
        ZoneName::Short if id == "UTC" => "UTC".to_string(),
        ZoneName::Long if id == "UTC" => "Coordinated Universal Time".to_string(),
        ZoneName::Short => match north_america {
            // Adak, unlike Honolulu, is named with ICU's own abbreviations.
            Some((-10, ..)) if id == "America/Adak" => {
                (if dst { "HADT" } else { "HAST" }).to_string()
            }
            Some((_, std, daylight, _)) => (if dst { daylight } else { std }).to_string(),
            None if named && (abbreviation == "GMT" || id == "Antarctica/Troll" && offset == 0) => {
                "GMT".to_string()
            }
            None => gmt_offset(offset, false),
        },
        ZoneName::Long if !named && dst && id == "Europe/London" => {
            "British Summer Time".to_string()
        }
        ZoneName::Long if !named && dst && id == "Europe/Dublin" => {
            "Irish Standard Time".to_string()
        }
        ZoneName::Long => match north_america {
            Some((.., stem)) => {
                format!("{stem} {} Time", if dst { "Daylight" } else { "Standard" })
            }
            None if !named || id.starts_with("Etc/") => gmt_offset(offset, true),
            None => match LONG_NAMES.iter().find(|(abbr, prefixes, _)| {
                *abbr == abbreviation && prefixes.iter().any(|prefix| id.starts_with(prefix))
            }) {
                Some((.., long)) => long.to_string(),
                None => {
                    return Err(format!(
                        "timeZoneName 'long' is not supported for {id} at this date; use 'longOffset' or 'shortOffset'"
                    ));
                }
            },
        },
        ZoneName::ShortOffset => gmt_offset(offset, false),
        ZoneName::LongOffset => gmt_offset(offset, true),
    })
}

// ICU's localized GMT format: "GMT+0", "GMT+8", "GMT-3:30" or, long,
// "GMT+08:00".
fn gmt_offset(seconds: i32, long: bool) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = if long {
        format!("GMT{sign}{h:02}:{m:02}")
    } else {
        format!("GMT{sign}{h}")
    };
    if !long && (m != 0 || sec != 0) {
        out.push_str(&format!(":{m:02}"));
    }
    if sec != 0 {
        out.push_str(&format!(":{sec:02}"));
    }
    out
}

// ---------------------------------------------------------------- locales

/// Checks that `locale` is one this module formats for: "en", "en-US" or
/// an "en-US-…" tag without Unicode extensions (which could ask for
/// another calendar or hour cycle), in any case.
pub fn check_locale(locale: &str) -> Result<(), String> {
    let tag = locale.to_ascii_lowercase();
    let english = tag == "en" || tag == "en-us" || tag.starts_with("en-us-");
    if english && !tag.contains("-u-") {
        return Ok(());
    }
    if english {
        return Err(format!(
            "Unicode extensions in locale {locale:?} are not supported; supported locales: {SUPPORTED_LOCALES}"
        ));
    }
    Err(format!(
        "Unsupported locale {locale:?}: supported locales: {SUPPORTED_LOCALES}"
    ))
}

// ------------------------------------------------------------------ tests

#[cfg(test)]
mod tests {
    use super::*;

    fn options(spec: &str) -> Result<DateOptions, String> {
        let mut fields = vec![None; DATE_OPTION_FIELDS.len()];
        for pair in spec.split(';').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap();
            let index = DATE_OPTION_FIELDS.iter().position(|f| *f == key).unwrap();
            fields[index] = Some(value.to_string());
        }
        DateOptions::from_fields(&fields)
    }

    fn format(ms: f64, defaults: &str, spec: &str) -> Result<String, String> {
        format_date(ms, "en-US", &options(spec)?, Defaults::from_name(defaults)?)
    }

    /// (time value, defaults, options, what Node 20.20 (ICU 78.2) prints),
    /// generated with Node's `toLocale*String` and `Intl.DateTimeFormat`.
    #[rustfmt::skip]
    const NODE: &[(f64, &str, &str, &str)] = &[
        (1772953199000.0, "datetime", "timeZone=America/New_York;timeZoneName=short", "3/8/2026, 1:59:59 AM EST"),
        (1772953199000.0, "datetime", "timeZone=America/New_York;timeZoneName=long", "3/8/2026, 1:59:59 AM Eastern Standard Time"),
        (1772953199000.0, "datetime", "timeZone=America/New_York;timeZoneName=shortOffset", "3/8/2026, 1:59:59 AM GMT-5"),
        (1772953199000.0, "datetime", "timeZone=America/New_York;timeZoneName=longOffset", "3/8/2026, 1:59:59 AM GMT-05:00"),
        (1772953200000.0, "datetime", "timeZone=America/New_York;timeZoneName=short", "3/8/2026, 3:00:00 AM EDT"),
        (1772953200000.0, "datetime", "timeZone=America/New_York;timeZoneName=long", "3/8/2026, 3:00:00 AM Eastern Daylight Time"),
        (1772953200000.0, "datetime", "timeZone=America/New_York;timeZoneName=shortOffset", "3/8/2026, 3:00:00 AM GMT-4"),
        (1772953200000.0, "datetime", "timeZone=America/New_York;timeZoneName=longOffset", "3/8/2026, 3:00:00 AM GMT-04:00"),
        (1793512799000.0, "datetime", "timeZone=America/New_York;timeZoneName=short", "11/1/2026, 1:59:59 AM EDT"),
        (1793512799000.0, "datetime", "timeZone=America/New_York;timeZoneName=long", "11/1/2026, 1:59:59 AM Eastern Daylight Time"),
        (1793512799000.0, "datetime", "timeZone=America/New_York;timeZoneName=shortOffset", "11/1/2026, 1:59:59 AM GMT-4"),
        (1793512799000.0, "datetime", "timeZone=America/New_York;timeZoneName=longOffset", "11/1/2026, 1:59:59 AM GMT-04:00"),
        (1793512800000.0, "datetime", "timeZone=America/New_York;timeZoneName=short", "11/1/2026, 1:00:00 AM EST"),
        (1793512800000.0, "datetime", "timeZone=America/New_York;timeZoneName=long", "11/1/2026, 1:00:00 AM Eastern Standard Time"),
        (1793512800000.0, "datetime", "timeZone=America/New_York;timeZoneName=shortOffset", "11/1/2026, 1:00:00 AM GMT-5"),
        (1793512800000.0, "datetime", "timeZone=America/New_York;timeZoneName=longOffset", "11/1/2026, 1:00:00 AM GMT-05:00"),
        (1795957648123.0, "datetime", "", "11/29/2026, 1:07:28 PM"),
        (1795957648123.0, "time", "timeZoneName=short", "1:07:28 PM UTC"),
        (1795957648123.0, "format", "timeStyle=full", "1:07:28 PM Coordinated Universal Time"),
        (1783125000000.0, "datetime", "", "7/4/2026, 12:30:00 AM"),
        (1783125000000.0, "time", "timeZoneName=short", "12:30:00 AM UTC"),
        (1783125000000.0, "format", "timeStyle=full", "12:30:00 AM Coordinated Universal Time"),
        (1795957648123.0, "datetime", "timeZone=UTC", "11/29/2026, 1:07:28 PM"),
        (1795957648123.0, "time", "timeZone=UTC;timeZoneName=short", "1:07:28 PM UTC"),
        (1795957648123.0, "format", "timeZone=UTC;timeStyle=full", "1:07:28 PM Coordinated Universal Time"),
        (1783125000000.0, "datetime", "timeZone=UTC", "7/4/2026, 12:30:00 AM"),
        (1783125000000.0, "time", "timeZone=UTC;timeZoneName=short", "12:30:00 AM UTC"),
        (1783125000000.0, "format", "timeZone=UTC;timeStyle=full", "12:30:00 AM Coordinated Universal Time"),
        (1795957648123.0, "datetime", "timeZone=Asia/Shanghai", "11/29/2026, 9:07:28 PM"),
        (1795957648123.0, "time", "timeZone=Asia/Shanghai;timeZoneName=short", "9:07:28 PM GMT+8"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;timeStyle=full", "9:07:28 PM China Standard Time"),
        (1783125000000.0, "datetime", "timeZone=Asia/Shanghai", "7/4/2026, 8:30:00 AM"),
        (1783125000000.0, "time", "timeZone=Asia/Shanghai;timeZoneName=short", "8:30:00 AM GMT+8"),
        (1783125000000.0, "format", "timeZone=Asia/Shanghai;timeStyle=full", "8:30:00 AM China Standard Time"),
        (1795957648123.0, "datetime", "timeZone=Asia/Kolkata", "11/29/2026, 6:37:28 PM"),
        (1795957648123.0, "time", "timeZone=Asia/Kolkata;timeZoneName=short", "6:37:28 PM GMT+5:30"),
        (1795957648123.0, "format", "timeZone=Asia/Kolkata;timeStyle=full", "6:37:28 PM India Standard Time"),
        (1783125000000.0, "datetime", "timeZone=Asia/Kolkata", "7/4/2026, 6:00:00 AM"),
        (1783125000000.0, "time", "timeZone=Asia/Kolkata;timeZoneName=short", "6:00:00 AM GMT+5:30"),
        (1783125000000.0, "format", "timeZone=Asia/Kolkata;timeStyle=full", "6:00:00 AM India Standard Time"),
        (1795957648123.0, "datetime", "timeZone=Europe/London", "11/29/2026, 1:07:28 PM"),
        (1795957648123.0, "time", "timeZone=Europe/London;timeZoneName=short", "1:07:28 PM GMT"),
        (1795957648123.0, "format", "timeZone=Europe/London;timeStyle=full", "1:07:28 PM Greenwich Mean Time"),
        (1783125000000.0, "datetime", "timeZone=Europe/London", "7/4/2026, 1:30:00 AM"),
        (1783125000000.0, "time", "timeZone=Europe/London;timeZoneName=short", "1:30:00 AM GMT+1"),
        (1783125000000.0, "format", "timeZone=Europe/London;timeStyle=full", "1:30:00 AM British Summer Time"),
        (1795957648123.0, "datetime", "timeZone=america/new_york", "11/29/2026, 8:07:28 AM"),
        (1795957648123.0, "time", "timeZone=america/new_york;timeZoneName=short", "8:07:28 AM EST"),
        (1795957648123.0, "format", "timeZone=america/new_york;timeStyle=full", "8:07:28 AM Eastern Standard Time"),
        (1783125000000.0, "datetime", "timeZone=america/new_york", "7/3/2026, 8:30:00 PM"),
        (1783125000000.0, "time", "timeZone=america/new_york;timeZoneName=short", "8:30:00 PM EDT"),
        (1783125000000.0, "format", "timeZone=america/new_york;timeStyle=full", "8:30:00 PM Eastern Daylight Time"),
        (1795957648123.0, "datetime", "timeZone=US/Pacific", "11/29/2026, 5:07:28 AM"),
        (1795957648123.0, "time", "timeZone=US/Pacific;timeZoneName=short", "5:07:28 AM PST"),
        (1795957648123.0, "format", "timeZone=US/Pacific;timeStyle=full", "5:07:28 AM Pacific Standard Time"),
        (1783125000000.0, "datetime", "timeZone=US/Pacific", "7/3/2026, 5:30:00 PM"),
        (1783125000000.0, "time", "timeZone=US/Pacific;timeZoneName=short", "5:30:00 PM PDT"),
        (1783125000000.0, "format", "timeZone=US/Pacific;timeStyle=full", "5:30:00 PM Pacific Daylight Time"),
        (1795957648123.0, "datetime", "timeZone=Etc/GMT+5", "11/29/2026, 8:07:28 AM"),
        (1795957648123.0, "time", "timeZone=Etc/GMT+5;timeZoneName=short", "8:07:28 AM GMT-5"),
        (1795957648123.0, "format", "timeZone=Etc/GMT+5;timeStyle=full", "8:07:28 AM GMT-05:00"),
        (1783125000000.0, "datetime", "timeZone=Etc/GMT+5", "7/3/2026, 7:30:00 PM"),
        (1783125000000.0, "time", "timeZone=Etc/GMT+5;timeZoneName=short", "7:30:00 PM GMT-5"),
        (1783125000000.0, "format", "timeZone=Etc/GMT+5;timeStyle=full", "7:30:00 PM GMT-05:00"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=full", "Sunday, November 29, 2026"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=full;timeStyle=full", "Sunday, November 29, 2026 at 9:07:28 PM China Standard Time"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=full;timeStyle=long", "Sunday, November 29, 2026 at 9:07:28 PM GMT+8"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=full;timeStyle=medium", "Sunday, November 29, 2026 at 9:07:28 PM"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=full;timeStyle=short", "Sunday, November 29, 2026 at 9:07 PM"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=long", "November 29, 2026"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=long;timeStyle=full", "November 29, 2026 at 9:07:28 PM China Standard Time"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=long;timeStyle=long", "November 29, 2026 at 9:07:28 PM GMT+8"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=long;timeStyle=medium", "November 29, 2026 at 9:07:28 PM"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=long;timeStyle=short", "November 29, 2026 at 9:07 PM"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=medium", "Nov 29, 2026"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=medium;timeStyle=full", "Nov 29, 2026, 9:07:28 PM China Standard Time"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=medium;timeStyle=long", "Nov 29, 2026, 9:07:28 PM GMT+8"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=medium;timeStyle=medium", "Nov 29, 2026, 9:07:28 PM"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=medium;timeStyle=short", "Nov 29, 2026, 9:07 PM"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=short", "11/29/26"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=short;timeStyle=full", "11/29/26, 9:07:28 PM China Standard Time"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=short;timeStyle=long", "11/29/26, 9:07:28 PM GMT+8"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=short;timeStyle=medium", "11/29/26, 9:07:28 PM"),
        (1795957648123.0, "format", "timeZone=Asia/Shanghai;dateStyle=short;timeStyle=short", "11/29/26, 9:07 PM"),
        (1795957648123.0, "format", "timeZone=Asia/Kolkata;hour12=false;timeStyle=full", "18:37:28 India Standard Time"),
        (1795957648123.0, "format", "timeZone=Asia/Kolkata;hour12=false;timeStyle=long", "18:37:28 GMT+5:30"),
        (1795957648123.0, "format", "timeZone=Asia/Kolkata;hour12=false;timeStyle=medium", "18:37:28"),
        (1795957648123.0, "format", "timeZone=Asia/Kolkata;hour12=false;timeStyle=short", "18:37"),
        (1110067200000.0, "format", "timeZone=UTC;year=numeric;month=numeric;day=numeric", "3/6/2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=long;year=numeric;month=numeric;day=numeric", "Sunday, 3/6/2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=short;year=numeric;month=numeric;day=numeric", "Sun, 3/6/2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=narrow;year=numeric;month=numeric;day=numeric", "S, 3/6/2005"),
        (1110067200000.0, "format", "timeZone=UTC;year=numeric;month=2-digit;day=numeric", "03/6/2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=long;year=numeric;month=2-digit;day=numeric", "Sunday, 03/6/2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=short;year=numeric;month=2-digit;day=numeric", "Sun, 03/6/2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=narrow;year=numeric;month=2-digit;day=numeric", "S, 03/6/2005"),
        (1110067200000.0, "format", "timeZone=UTC;year=numeric;month=long;day=numeric", "March 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=long;year=numeric;month=long;day=numeric", "Sunday, March 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=short;year=numeric;month=long;day=numeric", "Sun, March 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=narrow;year=numeric;month=long;day=numeric", "S, March 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;year=numeric;month=short;day=numeric", "Mar 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=long;year=numeric;month=short;day=numeric", "Sunday, Mar 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=short;year=numeric;month=short;day=numeric", "Sun, Mar 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=narrow;year=numeric;month=short;day=numeric", "S, Mar 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;year=numeric;month=narrow;day=numeric", "M 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=long;year=numeric;month=narrow;day=numeric", "Sunday, M 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=short;year=numeric;month=narrow;day=numeric", "Sun, M 6, 2005"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=narrow;year=numeric;month=narrow;day=numeric", "S, M 6, 2005"),
        (1110067200000.0, "date", "timeZone=UTC;year=numeric;month=numeric", "3/2005"),
        (1110067200000.0, "date", "timeZone=UTC;year=numeric;month=numeric;day=2-digit", "3/06/2005"),
        (1110067200000.0, "date", "timeZone=UTC;year=numeric;month=long", "March 2005"),
        (1110067200000.0, "date", "timeZone=UTC;year=numeric;month=long;day=2-digit", "March 06, 2005"),
        (1110067200000.0, "date", "timeZone=UTC;year=2-digit;month=numeric", "3/05"),
        (1110067200000.0, "date", "timeZone=UTC;year=2-digit;month=numeric;day=2-digit", "3/06/05"),
        (1110067200000.0, "date", "timeZone=UTC;year=2-digit;month=long", "March 05"),
        (1110067200000.0, "date", "timeZone=UTC;year=2-digit;month=long;day=2-digit", "March 06, 05"),
        (1110067200000.0, "format", "timeZone=UTC;year=numeric", "2005"),
        (1110067200000.0, "format", "timeZone=UTC;month=long", "March"),
        (1110067200000.0, "format", "timeZone=UTC;day=2-digit", "06"),
        (1110067200000.0, "format", "timeZone=UTC;weekday=short", "Sun"),
        (1110067200000.0, "format", "timeZone=UTC;month=short;day=numeric", "Mar 6"),
        (1110067200000.0, "format", "timeZone=UTC;era=short", "3/6/2005 AD"),
        (1110067200000.0, "format", "timeZone=UTC;era=long;year=numeric;month=long;day=numeric", "March 6, 2005 Anno Domini"),
        (1110067200000.0, "format", "timeZone=UTC;era=narrow;month=numeric;day=numeric", "3/6 A"),
        (1767225909007.0, "time", "timeZone=UTC", "12:05:09 AM"),
        (1767225909007.0, "format", "timeZone=UTC;hour=2-digit;minute=numeric", "12:05 AM"),
        (1767225909007.0, "format", "timeZone=UTC;hour=numeric", "12 AM"),
        (1767269109007.0, "time", "timeZone=UTC", "12:05:09 PM"),
        (1767269109007.0, "format", "timeZone=UTC;hour=2-digit;minute=numeric", "12:05 PM"),
        (1767269109007.0, "format", "timeZone=UTC;hour=numeric", "12 PM"),
        (1767308709007.0, "time", "timeZone=UTC", "11:05:09 PM"),
        (1767308709007.0, "format", "timeZone=UTC;hour=2-digit;minute=numeric", "11:05 PM"),
        (1767308709007.0, "format", "timeZone=UTC;hour=numeric", "11 PM"),
        (1767225909007.0, "time", "timeZone=UTC;hour12=true", "12:05:09 AM"),
        (1767225909007.0, "format", "timeZone=UTC;hour12=true;hour=2-digit;minute=numeric", "12:05 AM"),
        (1767225909007.0, "format", "timeZone=UTC;hour12=true;hour=numeric", "12 AM"),
        (1767269109007.0, "time", "timeZone=UTC;hour12=true", "12:05:09 PM"),
        (1767269109007.0, "format", "timeZone=UTC;hour12=true;hour=2-digit;minute=numeric", "12:05 PM"),
        (1767269109007.0, "format", "timeZone=UTC;hour12=true;hour=numeric", "12 PM"),
        (1767308709007.0, "time", "timeZone=UTC;hour12=true", "11:05:09 PM"),
        (1767308709007.0, "format", "timeZone=UTC;hour12=true;hour=2-digit;minute=numeric", "11:05 PM"),
        (1767308709007.0, "format", "timeZone=UTC;hour12=true;hour=numeric", "11 PM"),
        (1767225909007.0, "time", "timeZone=UTC;hour12=false", "00:05:09"), // Node 20 prints 24 (hourCycle h24, the pre-2024 spec)
        (1767225909007.0, "format", "timeZone=UTC;hour12=false;hour=2-digit;minute=numeric", "00:05"), // Node 20 prints 24 (hourCycle h24, the pre-2024 spec)
        (1767225909007.0, "format", "timeZone=UTC;hour12=false;hour=numeric", "00"), // Node 20 prints 24 (hourCycle h24, the pre-2024 spec)
        (1767269109007.0, "time", "timeZone=UTC;hour12=false", "12:05:09"),
        (1767269109007.0, "format", "timeZone=UTC;hour12=false;hour=2-digit;minute=numeric", "12:05"),
        (1767269109007.0, "format", "timeZone=UTC;hour12=false;hour=numeric", "12"),
        (1767308709007.0, "time", "timeZone=UTC;hour12=false", "23:05:09"),
        (1767308709007.0, "format", "timeZone=UTC;hour12=false;hour=2-digit;minute=numeric", "23:05"),
        (1767308709007.0, "format", "timeZone=UTC;hour12=false;hour=numeric", "23"),
        (1767225909007.0, "time", "timeZone=UTC;hourCycle=h11", "0:05:09 AM"),
        (1767225909007.0, "format", "timeZone=UTC;hourCycle=h11;hour=2-digit;minute=numeric", "00:05 AM"),
        (1767225909007.0, "format", "timeZone=UTC;hourCycle=h11;hour=numeric", "0 AM"),
        (1767269109007.0, "time", "timeZone=UTC;hourCycle=h11", "0:05:09 PM"),
        (1767269109007.0, "format", "timeZone=UTC;hourCycle=h11;hour=2-digit;minute=numeric", "00:05 PM"),
        (1767269109007.0, "format", "timeZone=UTC;hourCycle=h11;hour=numeric", "0 PM"),
        (1767308709007.0, "time", "timeZone=UTC;hourCycle=h11", "11:05:09 PM"),
        (1767308709007.0, "format", "timeZone=UTC;hourCycle=h11;hour=2-digit;minute=numeric", "11:05 PM"),
        (1767308709007.0, "format", "timeZone=UTC;hourCycle=h11;hour=numeric", "11 PM"),
        (1767225909007.0, "time", "timeZone=UTC;hourCycle=h23", "00:05:09"),
        (1767225909007.0, "format", "timeZone=UTC;hourCycle=h23;hour=2-digit;minute=numeric", "00:05"),
        (1767225909007.0, "format", "timeZone=UTC;hourCycle=h23;hour=numeric", "00"),
        (1767269109007.0, "time", "timeZone=UTC;hourCycle=h23", "12:05:09"),
        (1767269109007.0, "format", "timeZone=UTC;hourCycle=h23;hour=2-digit;minute=numeric", "12:05"),
        (1767269109007.0, "format", "timeZone=UTC;hourCycle=h23;hour=numeric", "12"),
        (1767308709007.0, "time", "timeZone=UTC;hourCycle=h23", "23:05:09"),
        (1767308709007.0, "format", "timeZone=UTC;hourCycle=h23;hour=2-digit;minute=numeric", "23:05"),
        (1767308709007.0, "format", "timeZone=UTC;hourCycle=h23;hour=numeric", "23"),
        (1767225909007.0, "time", "timeZone=UTC;hourCycle=h24", "24:05:09"),
        (1767225909007.0, "format", "timeZone=UTC;hourCycle=h24;hour=2-digit;minute=numeric", "24:05"),
        (1767225909007.0, "format", "timeZone=UTC;hourCycle=h24;hour=numeric", "24"),
        (1767269109007.0, "time", "timeZone=UTC;hourCycle=h24", "12:05:09"),
        (1767269109007.0, "format", "timeZone=UTC;hourCycle=h24;hour=2-digit;minute=numeric", "12:05"),
        (1767269109007.0, "format", "timeZone=UTC;hourCycle=h24;hour=numeric", "12"),
        (1767308709007.0, "time", "timeZone=UTC;hourCycle=h24", "23:05:09"),
        (1767308709007.0, "format", "timeZone=UTC;hourCycle=h24;hour=2-digit;minute=numeric", "23:05"),
        (1767308709007.0, "format", "timeZone=UTC;hourCycle=h24;hour=numeric", "23"),
        (1767225909007.0, "time", "timeZone=UTC;hour12=false;hourCycle=h11", "00:05:09"), // Node 20 prints 24 (hourCycle h24, the pre-2024 spec)
        (1767225909007.0, "format", "timeZone=UTC;hour12=false;hourCycle=h11;hour=2-digit;minute=numeric", "00:05"), // Node 20 prints 24 (hourCycle h24, the pre-2024 spec)
        (1767225909007.0, "format", "timeZone=UTC;hour12=false;hourCycle=h11;hour=numeric", "00"), // Node 20 prints 24 (hourCycle h24, the pre-2024 spec)
        (1767269109007.0, "time", "timeZone=UTC;hour12=false;hourCycle=h11", "12:05:09"),
        (1767269109007.0, "format", "timeZone=UTC;hour12=false;hourCycle=h11;hour=2-digit;minute=numeric", "12:05"),
        (1767269109007.0, "format", "timeZone=UTC;hour12=false;hourCycle=h11;hour=numeric", "12"),
        (1767308709007.0, "time", "timeZone=UTC;hour12=false;hourCycle=h11", "23:05:09"),
        (1767308709007.0, "format", "timeZone=UTC;hour12=false;hourCycle=h11;hour=2-digit;minute=numeric", "23:05"),
        (1767308709007.0, "format", "timeZone=UTC;hour12=false;hourCycle=h11;hour=numeric", "23"),
        (1767258309087.0, "format", "timeZone=UTC;hour=numeric;minute=numeric;second=numeric;fractionalSecondDigits=1", "9:05:09.0 AM"),
        (-1.0, "format", "timeZone=UTC;minute=numeric;second=numeric;fractionalSecondDigits=1", "59:59.9"),
        (1767258309087.0, "format", "timeZone=UTC;second=numeric;fractionalSecondDigits=1", "9.0"),
        (1767258309087.0, "format", "timeZone=UTC;hour=numeric;minute=numeric;second=numeric;fractionalSecondDigits=2", "9:05:09.08 AM"),
        (-1.0, "format", "timeZone=UTC;minute=numeric;second=numeric;fractionalSecondDigits=2", "59:59.99"),
        (1767258309087.0, "format", "timeZone=UTC;second=numeric;fractionalSecondDigits=2", "9.08"),
        (1767258309087.0, "format", "timeZone=UTC;hour=numeric;minute=numeric;second=numeric;fractionalSecondDigits=3", "9:05:09.087 AM"),
        (-1.0, "format", "timeZone=UTC;minute=numeric;second=numeric;fractionalSecondDigits=3", "59:59.999"),
        (1767258309087.0, "format", "timeZone=UTC;second=numeric;fractionalSecondDigits=3", "9.087"),
        (1795957648123.0, "format", "timeZone=America/New_York;minute=2-digit", "7"),
        (1795957648123.0, "format", "timeZone=America/New_York;second=2-digit", "28"),
        (1795957648123.0, "format", "timeZone=America/New_York;minute=numeric;second=numeric", "07:28"),
        (1795957648123.0, "format", "timeZone=America/New_York;weekday=long;hour=numeric;minute=numeric", "Sunday 8:07 AM"),
        (1795957648123.0, "format", "timeZone=America/New_York;month=long;day=numeric;hour=numeric", "November 29 at 8 AM"),
        (1795957648123.0, "format", "timeZone=America/New_York;year=numeric;hour=numeric;minute=numeric;timeZoneName=short", "2026, 8:07 AM EST"),
        (1795957648123.0, "format", "timeZone=America/New_York;year=numeric;month=long;timeZoneName=long", "November 2026 at Eastern Standard Time"),
        (1795957648123.0, "format", "timeZone=America/New_York;weekday=long;timeZoneName=shortOffset", "Sunday, GMT-5"),
        (-14182980000.0, "datetime", "timeZone=UTC", "7/20/1969, 8:17:00 PM"),
        (-14182980000.0, "format", "timeZone=Europe/London;dateStyle=full;timeStyle=long", "Sunday, July 20, 1969 at 9:17:00 PM GMT+1"),
        (-14182980000.0, "format", "timeZone=UTC;era=short;year=2-digit;month=short;day=numeric", "Jul 20, 69 AD"),
        (-2208988800000.0, "datetime", "timeZone=UTC", "1/1/1900, 12:00:00 AM"),
        (-2208988800000.0, "format", "timeZone=Europe/London;dateStyle=full;timeStyle=long", "Monday, January 1, 1900 at 12:00:00 AM GMT+0"),
        (-2208988800000.0, "format", "timeZone=UTC;era=short;year=2-digit;month=short;day=numeric", "Jan 1, 00 AD"),
        (-63738748800000.0, "datetime", "timeZone=UTC", "3/15/51, 12:00:00 AM"),
        (-63738748800000.0, "format", "timeZone=Europe/London;dateStyle=full;timeStyle=long", "Tuesday, March 14, 51 at 11:58:45 PM GMT-0:01:15"),
        (-63738748800000.0, "format", "timeZone=UTC;era=short;year=2-digit;month=short;day=numeric", "Mar 15, 51 BC"),
        (-62135596800000.0, "datetime", "timeZone=UTC", "1/1/1, 12:00:00 AM"),
        (-62135596800000.0, "format", "timeZone=Europe/London;dateStyle=full;timeStyle=long", "Sunday, December 31, 1 at 11:58:45 PM GMT-0:01:15"),
        (-62135596800000.0, "format", "timeZone=UTC;era=short;year=2-digit;month=short;day=numeric", "Jan 1, 01 AD"),
        (2147483648000.0, "datetime", "timeZone=UTC", "1/19/2038, 3:14:08 AM"),
        (2147483648000.0, "format", "timeZone=Europe/London;dateStyle=full;timeStyle=long", "Tuesday, January 19, 2038 at 3:14:08 AM GMT"),
        (2147483648000.0, "format", "timeZone=UTC;era=short;year=2-digit;month=short;day=numeric", "Jan 19, 38 AD"),
        (4102444799000.0, "datetime", "timeZone=UTC", "12/31/2099, 11:59:59 PM"),
        (4102444799000.0, "format", "timeZone=Europe/London;dateStyle=full;timeStyle=long", "Thursday, December 31, 2099 at 11:59:59 PM GMT"),
        (4102444799000.0, "format", "timeZone=UTC;era=short;year=2-digit;month=short;day=numeric", "Dec 31, 99 AD"),
        (253402214400000.0, "datetime", "timeZone=UTC", "12/31/9999, 12:00:00 AM"),
        (253402214400000.0, "format", "timeZone=Europe/London;dateStyle=full;timeStyle=long", "Friday, December 31, 9999 at 12:00:00 AM GMT"),
        (253402214400000.0, "format", "timeZone=UTC;era=short;year=2-digit;month=short;day=numeric", "Dec 31, 99 AD"),
        (1768435200000.0, "time", "timeZone=Europe/London;hour=numeric;minute=numeric;timeZoneName=short", "12:00 AM GMT"),
        (1768435200000.0, "time", "timeZone=Europe/London;hour=numeric;minute=numeric;timeZoneName=shortOffset", "12:00 AM GMT+0"),
        (1768435200000.0, "time", "timeZone=Europe/London;hour=numeric;minute=numeric;timeZoneName=longOffset", "12:00 AM GMT+00:00"),
        (1768435200000.0, "time", "timeZone=Europe/Berlin;hour=numeric;minute=numeric;timeZoneName=short", "1:00 AM GMT+1"),
        (1768435200000.0, "time", "timeZone=Europe/Berlin;hour=numeric;minute=numeric;timeZoneName=shortOffset", "1:00 AM GMT+1"),
        (1768435200000.0, "time", "timeZone=Europe/Berlin;hour=numeric;minute=numeric;timeZoneName=longOffset", "1:00 AM GMT+01:00"),
        (1768435200000.0, "time", "timeZone=Asia/Kolkata;hour=numeric;minute=numeric;timeZoneName=short", "5:30 AM GMT+5:30"),
        (1768435200000.0, "time", "timeZone=Asia/Kolkata;hour=numeric;minute=numeric;timeZoneName=shortOffset", "5:30 AM GMT+5:30"),
        (1768435200000.0, "time", "timeZone=Asia/Kolkata;hour=numeric;minute=numeric;timeZoneName=longOffset", "5:30 AM GMT+05:30"),
        (1768435200000.0, "time", "timeZone=Asia/Shanghai;hour=numeric;minute=numeric;timeZoneName=short", "8:00 AM GMT+8"),
        (1768435200000.0, "time", "timeZone=Asia/Shanghai;hour=numeric;minute=numeric;timeZoneName=shortOffset", "8:00 AM GMT+8"),
        (1768435200000.0, "time", "timeZone=Asia/Shanghai;hour=numeric;minute=numeric;timeZoneName=longOffset", "8:00 AM GMT+08:00"),
        (1768435200000.0, "time", "timeZone=Pacific/Honolulu;hour=numeric;minute=numeric;timeZoneName=short", "2:00 PM HST"),
        (1768435200000.0, "time", "timeZone=Pacific/Honolulu;hour=numeric;minute=numeric;timeZoneName=shortOffset", "2:00 PM GMT-10"),
        (1768435200000.0, "time", "timeZone=Pacific/Honolulu;hour=numeric;minute=numeric;timeZoneName=longOffset", "2:00 PM GMT-10:00"),
        (1768435200000.0, "time", "timeZone=America/Adak;hour=numeric;minute=numeric;timeZoneName=short", "2:00 PM HAST"),
        (1768435200000.0, "time", "timeZone=America/Adak;hour=numeric;minute=numeric;timeZoneName=shortOffset", "2:00 PM GMT-10"),
        (1768435200000.0, "time", "timeZone=America/Adak;hour=numeric;minute=numeric;timeZoneName=longOffset", "2:00 PM GMT-10:00"),
        (1768435200000.0, "time", "timeZone=America/Phoenix;hour=numeric;minute=numeric;timeZoneName=short", "5:00 PM MST"),
        (1768435200000.0, "time", "timeZone=America/Phoenix;hour=numeric;minute=numeric;timeZoneName=shortOffset", "5:00 PM GMT-7"),
        (1768435200000.0, "time", "timeZone=America/Phoenix;hour=numeric;minute=numeric;timeZoneName=longOffset", "5:00 PM GMT-07:00"),
        (1768435200000.0, "time", "timeZone=America/Sao_Paulo;hour=numeric;minute=numeric;timeZoneName=short", "9:00 PM GMT-3"),
        (1768435200000.0, "time", "timeZone=America/Sao_Paulo;hour=numeric;minute=numeric;timeZoneName=shortOffset", "9:00 PM GMT-3"),
        (1768435200000.0, "time", "timeZone=America/Sao_Paulo;hour=numeric;minute=numeric;timeZoneName=longOffset", "9:00 PM GMT-03:00"),
        (1768435200000.0, "time", "timeZone=Australia/Sydney;hour=numeric;minute=numeric;timeZoneName=short", "11:00 AM GMT+11"),
        (1768435200000.0, "time", "timeZone=Australia/Sydney;hour=numeric;minute=numeric;timeZoneName=shortOffset", "11:00 AM GMT+11"),
        (1768435200000.0, "time", "timeZone=Australia/Sydney;hour=numeric;minute=numeric;timeZoneName=longOffset", "11:00 AM GMT+11:00"),
        (1768435200000.0, "time", "timeZone=Asia/Kathmandu;hour=numeric;minute=numeric;timeZoneName=short", "5:45 AM GMT+5:45"),
        (1768435200000.0, "time", "timeZone=Asia/Kathmandu;hour=numeric;minute=numeric;timeZoneName=shortOffset", "5:45 AM GMT+5:45"),
        (1768435200000.0, "time", "timeZone=Asia/Kathmandu;hour=numeric;minute=numeric;timeZoneName=longOffset", "5:45 AM GMT+05:45"),
        (1768435200000.0, "time", "timeZone=America/St_Johns;hour=numeric;minute=numeric;timeZoneName=short", "8:30 PM GMT-3:30"),
        (1768435200000.0, "time", "timeZone=America/St_Johns;hour=numeric;minute=numeric;timeZoneName=shortOffset", "8:30 PM GMT-3:30"),
        (1768435200000.0, "time", "timeZone=America/St_Johns;hour=numeric;minute=numeric;timeZoneName=longOffset", "8:30 PM GMT-03:30"),
        (1784073600000.0, "time", "timeZone=Europe/London;hour=numeric;minute=numeric;timeZoneName=short", "1:00 AM GMT+1"),
        (1784073600000.0, "time", "timeZone=Europe/London;hour=numeric;minute=numeric;timeZoneName=shortOffset", "1:00 AM GMT+1"),
        (1784073600000.0, "time", "timeZone=Europe/London;hour=numeric;minute=numeric;timeZoneName=longOffset", "1:00 AM GMT+01:00"),
        (1784073600000.0, "time", "timeZone=Europe/Berlin;hour=numeric;minute=numeric;timeZoneName=short", "2:00 AM GMT+2"),
        (1784073600000.0, "time", "timeZone=Europe/Berlin;hour=numeric;minute=numeric;timeZoneName=shortOffset", "2:00 AM GMT+2"),
        (1784073600000.0, "time", "timeZone=Europe/Berlin;hour=numeric;minute=numeric;timeZoneName=longOffset", "2:00 AM GMT+02:00"),
        (1784073600000.0, "time", "timeZone=Asia/Kolkata;hour=numeric;minute=numeric;timeZoneName=short", "5:30 AM GMT+5:30"),
        (1784073600000.0, "time", "timeZone=Asia/Kolkata;hour=numeric;minute=numeric;timeZoneName=shortOffset", "5:30 AM GMT+5:30"),
        (1784073600000.0, "time", "timeZone=Asia/Kolkata;hour=numeric;minute=numeric;timeZoneName=longOffset", "5:30 AM GMT+05:30"),
        (1784073600000.0, "time", "timeZone=Asia/Shanghai;hour=numeric;minute=numeric;timeZoneName=short", "8:00 AM GMT+8"),
        (1784073600000.0, "time", "timeZone=Asia/Shanghai;hour=numeric;minute=numeric;timeZoneName=shortOffset", "8:00 AM GMT+8"),
        (1784073600000.0, "time", "timeZone=Asia/Shanghai;hour=numeric;minute=numeric;timeZoneName=longOffset", "8:00 AM GMT+08:00"),
        (1784073600000.0, "time", "timeZone=Pacific/Honolulu;hour=numeric;minute=numeric;timeZoneName=short", "2:00 PM HST"),
        (1784073600000.0, "time", "timeZone=Pacific/Honolulu;hour=numeric;minute=numeric;timeZoneName=shortOffset", "2:00 PM GMT-10"),
        (1784073600000.0, "time", "timeZone=Pacific/Honolulu;hour=numeric;minute=numeric;timeZoneName=longOffset", "2:00 PM GMT-10:00"),
        (1784073600000.0, "time", "timeZone=America/Adak;hour=numeric;minute=numeric;timeZoneName=short", "3:00 PM HADT"),
        (1784073600000.0, "time", "timeZone=America/Adak;hour=numeric;minute=numeric;timeZoneName=shortOffset", "3:00 PM GMT-9"),
        (1784073600000.0, "time", "timeZone=America/Adak;hour=numeric;minute=numeric;timeZoneName=longOffset", "3:00 PM GMT-09:00"),
        (1784073600000.0, "time", "timeZone=America/Phoenix;hour=numeric;minute=numeric;timeZoneName=short", "5:00 PM MST"),
        (1784073600000.0, "time", "timeZone=America/Phoenix;hour=numeric;minute=numeric;timeZoneName=shortOffset", "5:00 PM GMT-7"),
        (1784073600000.0, "time", "timeZone=America/Phoenix;hour=numeric;minute=numeric;timeZoneName=longOffset", "5:00 PM GMT-07:00"),
        (1784073600000.0, "time", "timeZone=America/Sao_Paulo;hour=numeric;minute=numeric;timeZoneName=short", "9:00 PM GMT-3"),
        (1784073600000.0, "time", "timeZone=America/Sao_Paulo;hour=numeric;minute=numeric;timeZoneName=shortOffset", "9:00 PM GMT-3"),
        (1784073600000.0, "time", "timeZone=America/Sao_Paulo;hour=numeric;minute=numeric;timeZoneName=longOffset", "9:00 PM GMT-03:00"),
        (1784073600000.0, "time", "timeZone=Australia/Sydney;hour=numeric;minute=numeric;timeZoneName=short", "10:00 AM GMT+10"),
        (1784073600000.0, "time", "timeZone=Australia/Sydney;hour=numeric;minute=numeric;timeZoneName=shortOffset", "10:00 AM GMT+10"),
        (1784073600000.0, "time", "timeZone=Australia/Sydney;hour=numeric;minute=numeric;timeZoneName=longOffset", "10:00 AM GMT+10:00"),
        (1784073600000.0, "time", "timeZone=Asia/Kathmandu;hour=numeric;minute=numeric;timeZoneName=short", "5:45 AM GMT+5:45"),
        (1784073600000.0, "time", "timeZone=Asia/Kathmandu;hour=numeric;minute=numeric;timeZoneName=shortOffset", "5:45 AM GMT+5:45"),
        (1784073600000.0, "time", "timeZone=Asia/Kathmandu;hour=numeric;minute=numeric;timeZoneName=longOffset", "5:45 AM GMT+05:45"),
        (1784073600000.0, "time", "timeZone=America/St_Johns;hour=numeric;minute=numeric;timeZoneName=short", "9:30 PM GMT-2:30"),
        (1784073600000.0, "time", "timeZone=America/St_Johns;hour=numeric;minute=numeric;timeZoneName=shortOffset", "9:30 PM GMT-2:30"),
        (1784073600000.0, "time", "timeZone=America/St_Johns;hour=numeric;minute=numeric;timeZoneName=longOffset", "9:30 PM GMT-02:30"),
        (1768435200000.0, "time", "timeZone=UTC;timeZoneName=long", "12:00:00 AM Coordinated Universal Time"),
        (1784073600000.0, "time", "timeZone=UTC;timeZoneName=long", "12:00:00 AM Coordinated Universal Time"),
        (1768435200000.0, "time", "timeZone=America/New_York;timeZoneName=long", "7:00:00 PM Eastern Standard Time"),
        (1784073600000.0, "time", "timeZone=America/New_York;timeZoneName=long", "8:00:00 PM Eastern Daylight Time"),
        (1768435200000.0, "time", "timeZone=Asia/Shanghai;timeZoneName=long", "8:00:00 AM China Standard Time"),
        (1784073600000.0, "time", "timeZone=Asia/Shanghai;timeZoneName=long", "8:00:00 AM China Standard Time"),
        (1768435200000.0, "time", "timeZone=Asia/Kolkata;timeZoneName=long", "5:30:00 AM India Standard Time"),
        (1784073600000.0, "time", "timeZone=Asia/Kolkata;timeZoneName=long", "5:30:00 AM India Standard Time"),
        (1768435200000.0, "time", "timeZone=Europe/London;timeZoneName=long", "12:00:00 AM Greenwich Mean Time"),
        (1784073600000.0, "time", "timeZone=Europe/London;timeZoneName=long", "1:00:00 AM British Summer Time"),
        (1768435200000.0, "time", "timeZone=Europe/Berlin;timeZoneName=long", "1:00:00 AM Central European Standard Time"),
        (1784073600000.0, "time", "timeZone=Europe/Berlin;timeZoneName=long", "2:00:00 AM Central European Summer Time"),
        (1768435200000.0, "time", "timeZone=Asia/Tokyo;timeZoneName=long", "9:00:00 AM Japan Standard Time"),
        (1784073600000.0, "time", "timeZone=Asia/Tokyo;timeZoneName=long", "9:00:00 AM Japan Standard Time"),
        (1768435200000.0, "time", "timeZone=Australia/Sydney;timeZoneName=long", "11:00:00 AM Australian Eastern Daylight Time"),
        (1784073600000.0, "time", "timeZone=Australia/Sydney;timeZoneName=long", "10:00:00 AM Australian Eastern Standard Time"),
        (f64::NAN, "datetime", "", "Invalid Date"),
        (f64::NAN, "date", "timeZone=America/New_York", "Invalid Date"),
        (8640000000000000.0, "time", "", "12:00:00 AM"),
        (-8640000000000001.0, "datetime", "", "Invalid Date"),
        (8.64e15, "datetime", "timeZone=America/New_York;dateStyle=full;timeStyle=long", "Friday, September 12, 275760 at 8:00:00 PM GMT-4"),
        (-8.64e15, "datetime", "timeZone=America/New_York;dateStyle=full;timeStyle=long", "Monday, April 19, 271822 at 7:03:58 PM GMT-4:56:02"),
        (-5e14, "datetime", "era=short", "8/18/13876 BC, 11:06:40 PM"),
    ];

    #[test]
    fn matches_node() {
        let mut failures = Vec::new();
        for &(ms, defaults, spec, expected) in NODE {
            let got = format(ms, defaults, spec);
            let ok = match &got {
                Ok(text) => text == expected,
                Err(message) => expected.strip_prefix("ERR ") == Some(message.as_str()),
            };
            if !ok {
                failures.push(format!(
                    "{ms} {defaults} {spec}: got {got:?}, Node: {expected:?}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} differ:\n{}",
            failures.len(),
            NODE.len(),
            failures.join("\n")
        );
    }

    fn parts(ms: f64, spec: &str) -> String {
        let parts =
            format_date_to_parts(ms, "en", &options(spec).unwrap(), Defaults::Format).unwrap();
        parts
            .iter()
            .map(|(kind, value)| format!("{kind}:{value}"))
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn parts_match_node() {
        assert_eq!(
            parts(
                1772953200000.0,
                "timeZone=America/New_York;dateStyle=full;timeStyle=full"
            ),
            "weekday:Sunday|literal:, |month:March|literal: |day:8|literal:, |year:2026|literal: at |hour:3|literal::\
             |minute:00|literal::|second:00|literal:\u{202f}|dayPeriod:AM|literal: |timeZoneName:Eastern Daylight Time"
        );
        assert_eq!(
            parts(
                1767272709087.0,
                "hour=numeric;minute=numeric;second=numeric;fractionalSecondDigits=2"
            ),
            "hour:1|literal::|minute:05|literal::|second:09|literal:.|fractionalSecond:08|literal:\u{202f}|dayPeriod:PM"
        );
        assert_eq!(
            parts(-63738748800000.0, "era=short"),
            "month:3|literal:/|day:15|literal:/|year:51|literal: |era:BC"
        );
    }

    #[test]
    fn canonical_time_zones() {
        let canonical = |name: &str| canonical_time_zone(name);
        assert_eq!(canonical("asia/shanghai").unwrap(), "Asia/Shanghai");
        assert_eq!(canonical("US/Eastern").unwrap(), "America/New_York");
        for utc in ["UTC", "utc", "Etc/UTC", "GMT", "Etc/GMT", "Etc/Zulu"] {
            assert_eq!(canonical(utc).unwrap(), "UTC", "{utc}");
        }
        assert_eq!(canonical("Etc/GMT+5").unwrap(), "Etc/GMT+5");
        // Node 20 says Asia/Calcutta (ICU's legacy id); the primary IANA name is Asia/Kolkata.
        assert_eq!(canonical("Asia/Calcutta").unwrap(), "Asia/Kolkata");
        assert_eq!(
            canonical("Mars/Base").unwrap_err(),
            "Invalid time zone specified: Mars/Base"
        );
        assert_eq!(
            canonical("+05:30").unwrap_err(),
            "Invalid time zone specified: +05:30"
        );
    }

    fn resolved(defaults: Defaults, spec: &str) -> String {
        let fields = resolve_date_options("en-US", &options(spec).unwrap(), defaults).unwrap();
        let pairs = DATE_OPTION_FIELDS
            .iter()
            .zip(fields)
            .filter_map(|(k, v)| Some(format!("{k}={}", v?)));
        pairs.collect::<Vec<_>>().join(";")
    }

    #[test]
    fn resolved_options_match_node() {
        let f = Defaults::Format;
        assert_eq!(
            resolved(f, ""),
            "timeZone=UTC;year=numeric;month=numeric;day=numeric"
        );
        assert_eq!(
            resolved(
                f,
                "timeZone=asia/shanghai;hour=numeric;minute=2-digit;second=numeric"
            ),
            "timeZone=Asia/Shanghai;hour12=true;hourCycle=h12;hour=numeric;minute=2-digit;second=2-digit"
        );
        assert_eq!(
            resolved(f, "minute=numeric;second=2-digit"),
            "timeZone=UTC;minute=2-digit;second=2-digit"
        );
        assert_eq!(
            resolved(f, "hour=2-digit;hourCycle=h23"),
            "timeZone=UTC;hour12=false;hourCycle=h23;hour=2-digit"
        );
        // Node 20 resolves hour12: false to h24 here (the pre-2024 spec).
        assert_eq!(
            resolved(f, "timeStyle=short;hour12=false"),
            "timeZone=UTC;hour12=false;hourCycle=h23;timeStyle=short"
        );
        assert_eq!(
            resolved(f, "dateStyle=short"),
            "timeZone=UTC;dateStyle=short"
        );
        assert_eq!(
            resolved(Defaults::DateTime, "era=long"),
            "timeZone=UTC;hour12=true;hourCycle=h12;era=long;year=numeric;\
            month=numeric;day=numeric;hour=numeric;minute=2-digit;second=2-digit"
        );
        assert_eq!(
            resolved(Defaults::Date, "hour=numeric"),
            "timeZone=UTC;hour12=true;hourCycle=h12;year=numeric;month=numeric;\
            day=numeric;hour=numeric"
        );
    }

    #[test]
    fn errors() {
        let err = |ms: f64, defaults: &str, spec: &str| format(ms, defaults, spec).unwrap_err();
        assert_eq!(format(f64::NAN, "date", "").unwrap(), "Invalid Date");
        assert_eq!(err(f64::NAN, "format", ""), "Invalid time value");
        assert_eq!(err(8.64e15 + 1.0, "format", ""), "Invalid time value");
        assert_eq!(
            err(0.0, "format", "month=bogus"),
            "Value bogus out of range for Intl.DateTimeFormat options property month"
        );
        assert_eq!(
            err(0.0, "format", "timeZone=Mars/Base"),
            "Invalid time zone specified: Mars/Base"
        );
        assert_eq!(
            err(0.0, "format", "dateStyle=short;hour=numeric"),
            "Can't set option hour when dateStyle is used"
        );
        assert_eq!(
            err(0.0, "date", "timeStyle=short"),
            "Invalid option : timeStyle"
        );
        assert!(
            err(0.0, "format", "year=numeric;day=numeric")
                .starts_with("this combination of date components")
        );
        assert!(
            err(0.0, "format", "weekday=long;year=numeric")
                .starts_with("this combination of date components")
        );
        assert!(
            err(0.0, "format", "hour=numeric;second=numeric")
                .starts_with("this combination of time components")
        );
        assert!(err(0.0, "format", "timeZoneName=shortGeneric").contains("not supported"));
        assert!(
            err(0.0, "format", "timeZone=Asia/Kathmandu;timeZoneName=long")
                .contains("use 'longOffset'")
        );
        let o = options("").unwrap();
        assert_eq!(
            format_date(0.0, "en-us-x-test", &o, Defaults::Date).unwrap(),
            "1/1/1970"
        );
        assert!(
            format_date(0.0, "de-DE", &o, Defaults::Date)
                .unwrap_err()
                .starts_with("Unsupported locale \"de-DE\"")
        );
        assert!(
            format_date(0.0, "en-US-u-hc-h23", &o, Defaults::Date)
                .unwrap_err()
                .contains("Unicode extensions")
        );
        assert!(format_date(0.0, "en-GB", &o, Defaults::Date).is_err());
    }
}
