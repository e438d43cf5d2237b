// `Intl` for authpipe functions, which run in QuickJS without one.
//
// Dates are formatted by the engine (intl.rs, with the tz database built
// in), numbers and plural rules here. Only en-US is supported: a function
// asking for another locale gets a RangeError naming the supported one. That
// is a deliberate choice: a clear error instead of a silently wrong answer
// (say, US dates where German ones were asked for). For the same reason,
// options whose output cannot be reproduced exactly are errors too.
//
// Natives (errors are thrown as RangeError with the engine's message):
// - formatDate(epochMs, locale, fields, defaults) -> string
// - formatDateToParts(epochMs, locale, fields, defaults) -> [[type, value], ...]
// - resolveDateOptions(locale, fields, defaults) -> fields, as resolved
// where `fields` holds the DATE_FIELDS options as strings or undefined,
// and `defaults` is 'datetime', 'date', 'time' or 'format' (which
// components a method shows when none is asked for).
(function (natives) {
  'use strict';

  const formatDateNative = natives.formatDate;
  const formatDateToPartsNative = natives.formatDateToParts;
  const resolveDateOptions = natives.resolveDateOptions;
  const defineProperty = Object.defineProperty;
  const toObject = Object;
  const { keys, assign, is, getOwnPropertyDescriptor } = Object;
  const { floor, trunc, min, max } = Math;
  const ownKeys = Reflect.ownKeys;
  const dateNow = Date.now;
  const call = Function.prototype.call;
  const thisTimeValue = call.bind(Date.prototype.getTime);
  const thisNumberValue = call.bind(Number.prototype.valueOf);
  const DateProto = Date.prototype;
  const NumberProto = Number.prototype;

  // ---------------------------------------------------------------- locales

  const SUPPORTED_LOCALES = 'en-US (also as en, or no locale)';

  // The canonical form of a supported tag, or null. Unicode extensions
  // ("en-US-u-hc-h23") could ask for other hour cycles or numerals, so they
  // are not supported either.
  function supportedTag(tag) {
    const lower = tag.toLowerCase();
    if (lower.includes('-u-')) return null;
    if (lower === 'en') return 'en';
    return lower === 'en-us' || lower.startsWith('en-us-') ? 'en-US' : null;
  }

  function localeList(locales) {
    if (locales === undefined) return [];
    if (typeof locales === 'string') return [locales];
    const list = toObject(locales);
    const tags = [];
    for (let i = 0; i < list.length; i++) {
      const tag = list[i];
      if (typeof tag !== 'string' && (tag === null || typeof tag !== 'object')) {
        throw new TypeError('Language ID should be string or object.');
      }
      tags.push(String(tag));
    }
    return tags;
  }

  // The first supported locale of `locales`, or en-US when none is asked for.
  function resolveLocale(locales) {
    const tags = localeList(locales);
    if (tags.length === 0) return 'en-US';
    for (const tag of tags) {
      if (!/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(tag)) throw new RangeError('Incorrect locale information provided');
      const supported = supportedTag(tag);
      if (supported !== null) return supported;
    }
    throw new RangeError(`Unsupported locale ${tags.map((t) => `"${t}"`).join(', ')}: `
      + `authpipe formats dates and numbers for ${SUPPORTED_LOCALES} only`);
  }

  function supportedLocalesOf(locales) {
    const found = [];
    for (const tag of localeList(locales)) {
      const supported = supportedTag(tag);
      if (supported !== null && !found.includes(supported)) found.push(supported);
    }
    return found;
  }

  // ---------------------------------------------------------------- options

  function optionsObject(options) {
    if (options === undefined) return {};
    if (options === null) throw new TypeError('Cannot convert undefined or null to object');
    return toObject(options);
  }

  // Checks an option against the values this module supports (`allowed`)
  // and, for V8's message on a value no engine takes, the valid ones
  // (null: any value may be valid).
  function checkOption(options, name, allowed, what, valid = allowed) {
    const value = options[name];
    if (value === undefined) return;
    const text = String(value);
    if (valid !== null && !valid.includes(text)) throw new RangeError(`Value ${text} out of range for ${what} options property ${name}`);
    if (!allowed.includes(text)) {
      throw new RangeError(`${what} option ${name}: '${text}' is not supported; use ${allowed.map((a) => `'${a}'`).join(' or ')}`);
    }
  }

  function numberOption(options, name, min, max, fallback) {
    const value = options[name];
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!(n >= min && n <= max)) throw new RangeError(`${name} value is out of range.`);
    return floor(n);
  }

  // --------------------------------------------------------- DateTimeFormat

  const DATE_FIELDS = ['timeZone', 'hour12', 'hourCycle', 'weekday', 'era', 'year', 'month', 'day', 'hour',
    'minute', 'second', 'fractionalSecondDigits', 'timeZoneName', 'dateStyle', 'timeStyle'];
  const COMPONENTS = ['weekday', 'era', 'year', 'month', 'day', 'hour', 'minute', 'second',
    'fractionalSecondDigits', 'timeZoneName'];

  // The options as the engine takes them: DATE_FIELDS values as strings.
  function dateFields(given) {
    const options = optionsObject(given);
    checkOption(options, 'localeMatcher', ['lookup', 'best fit'], 'Intl.DateTimeFormat');
    checkOption(options, 'formatMatcher', ['basic', 'best fit'], 'Intl.DateTimeFormat');
    checkOption(options, 'calendar', ['gregory'], 'Intl.DateTimeFormat', null);
    checkOption(options, 'numberingSystem', ['latn'], 'Intl.DateTimeFormat', null);
    if (options.dayPeriod !== undefined) {
      throw new RangeError('Intl.DateTimeFormat option dayPeriod is not supported; use hour for AM/PM');
    }
    const fields = [];
    for (const name of DATE_FIELDS) {
      const value = options[name];
      if (value === undefined) fields.push(undefined);
      else if (name === 'hour12') fields.push(value ? 'true' : 'false');
      else if (name === 'fractionalSecondDigits') fields.push(String(numberOption(options, name, 1, 3)));
      else fields.push(String(value));
    }
    const style = fields[13] !== undefined ? 'dateStyle' : fields[14] !== undefined ? 'timeStyle' : null;
    if (style !== null) {
      for (const name of COMPONENTS) {
        if (fields[DATE_FIELDS.indexOf(name)] !== undefined) throw new TypeError(`Can't set option ${name} when ${style} is used`);
      }
    }
    return fields;
  }

  function styleCheck(fields, defaults) {
    if (defaults === 'date' && fields[14] !== undefined) throw new TypeError('Invalid option : timeStyle');
    if (defaults === 'time' && fields[13] !== undefined) throw new TypeError('Invalid option : dateStyle');
  }

  // ToNumber, then TimeClip (the engine rejects what is out of range).
  function timeValue(date) {
    const n = date === undefined ? dateNow() : Number(date);
    return n === 0 ? 0 : trunc(n);
  }

  const dateFormats = new WeakMap();

  function dateFormatState(format, method) {
    const state = dateFormats.get(format);
    if (state === undefined) throw new TypeError(`Method Intl.DateTimeFormat.prototype.${method} called on incompatible receiver`);
    return state;
  }

  // Intl.DateTimeFormat(locales, options), with or without `new`.
  function DateTimeFormat(locales, options) {
    if (new.target === undefined) return new DateTimeFormat(locales, options);
    const locale = resolveLocale(locales);
    const fields = dateFields(options);
    // Resolving now reports bad options here, as V8 does, not at format.
    const resolved = resolveDateOptions(locale, fields, 'format');
    dateFormats.set(this, { locale, fields, resolved, bound: undefined });
  }

  const dateFormatMethods = {
    // The format function, bound to this formatter (`dates.map(fmt.format)`).
    get format() {
      const state = dateFormatState(this, 'format');
      if (state.bound === undefined) {
        state.bound = (date) => formatDateNative(timeValue(date), state.locale, state.fields, 'format');
      }
      return state.bound;
    },
    formatToParts(date) {
      const state = dateFormatState(this, 'formatToParts');
      const parts = formatDateToPartsNative(timeValue(date), state.locale, state.fields, 'format');
      return parts.map((pair) => ({ type: pair[0], value: pair[1] }));
    },
    resolvedOptions() {
      const state = dateFormatState(this, 'resolvedOptions');
      const out = { locale: state.locale, calendar: 'gregory', numberingSystem: 'latn' };
      DATE_FIELDS.forEach((name, i) => {
        const value = state.resolved[i];
        if (value === undefined) return;
        if (name === 'hour12') out[name] = value === 'true';
        else if (name === 'fractionalSecondDigits') out[name] = Number(value);
        else out[name] = value;
      });
      // V8's order: hourCycle before hour12.
      if ('hour12' in out) {
        const { hour12 } = out;
        delete out.hour12;
        const ordered = {};
        for (const key of keys(out)) {
          ordered[key] = out[key];
          if (key === 'hourCycle') ordered.hour12 = hour12;
        }
        return ordered;
      }
      return out;
    },
  };

  // ----------------------------------------------------------- NumberFormat
  //
  // Numbers are rounded in decimal, on the shortest digits that read back
  // as the same double (as ICU does: 1.005 to two places is 1.01), half
  // away from zero.

  // The decimal digits of a finite, non-negative value: `digits` without
  // leading zeros ('' for zero), the decimal point after `point` of them.
  function decimalOf(text) {
    const [mantissa, exponent] = text.toLowerCase().split('e');
    const [whole, fraction = ''] = mantissa.split('.');
    let digits = whole + fraction;
    let point = whole.length + (exponent === undefined ? 0 : Number(exponent));
    const lead = digits.length - digits.replace(/^0+/, '').length;
    digits = digits.slice(lead).replace(/0+$/, '');
    point -= lead;
    return digits === '' ? { digits: '', point: 0 } : { digits, point };
  }

  // Keeps the first `keep` digits, rounding half away from zero.
  function roundDigits(d, keep) {
    if (keep >= d.digits.length) return d;
    if (keep < 0) return { digits: '', point: 0 };
    let head = d.digits.slice(0, keep);
    let point = d.point;
    if (d.digits.charCodeAt(keep) >= 53 /* '5' */) {
      let i = head.length - 1;
      while (i >= 0 && head[i] === '9') i--;
      if (i < 0) {
        head = '1';
        point += 1;
      } else {
        head = head.slice(0, i) + String(Number(head[i]) + 1);
      }
    }
    head = head.replace(/0+$/, '');
    return head === '' ? { digits: '', point: 0 } : { digits: head, point };
  }

  const numberFormats = new WeakMap();

  function numberFormatState(format, method) {
    const state = numberFormats.get(format);
    if (state === undefined) throw new TypeError(`Method Intl.NumberFormat.prototype.${method} called on incompatible receiver`);
    return state;
  }

  function numberSettings(given) {
    const options = optionsObject(given);
    checkOption(options, 'localeMatcher', ['lookup', 'best fit'], 'Intl.NumberFormat');
    checkOption(options, 'numberingSystem', ['latn'], 'Intl.NumberFormat', null);
    checkOption(options, 'style', ['decimal', 'percent'], 'Intl.NumberFormat', ['decimal', 'percent', 'currency', 'unit']);
    checkOption(options, 'notation', ['standard'], 'Intl.NumberFormat', ['standard', 'scientific', 'engineering', 'compact']);
    checkOption(options, 'roundingMode', ['halfExpand'], 'Intl.NumberFormat', ['ceil', 'floor', 'expand', 'trunc',
      'halfCeil', 'halfFloor', 'halfExpand', 'halfTrunc', 'halfEven']);
    checkOption(options, 'roundingPriority', ['auto'], 'Intl.NumberFormat', ['auto', 'morePrecision', 'lessPrecision']);
    checkOption(options, 'roundingIncrement', ['1'], 'Intl.NumberFormat', ['1', '2', '5', '10', '20', '25', '50', '100',
      '200', '250', '500', '1000', '2000', '2500', '5000']);
    checkOption(options, 'signDisplay', ['auto', 'never', 'always', 'exceptZero', 'negative'], 'Intl.NumberFormat');
    checkOption(options, 'trailingZeroDisplay', ['auto', 'stripIfInteger'], 'Intl.NumberFormat');
    const style = options.style === undefined ? 'decimal' : String(options.style);
    const s = {
      style,
      minimumIntegerDigits: numberOption(options, 'minimumIntegerDigits', 1, 21, 1),
      useGrouping: 'auto',
      signDisplay: options.signDisplay === undefined ? 'auto' : String(options.signDisplay),
      trailingZeroDisplay: options.trailingZeroDisplay === undefined ? 'auto' : String(options.trailingZeroDisplay),
    };
    const grouping = options.useGrouping;
    if (grouping !== undefined) {
      const text = typeof grouping === 'string' ? grouping : grouping ? 'always' : 'false';
      if (!['always', 'auto', 'min2', 'false'].includes(text)) {
        throw new RangeError(`Value ${text} out of range for Intl.NumberFormat options property useGrouping`);
      }
      s.useGrouping = text === 'false' ? false : text;
    }
    const minSignificant = numberOption(options, 'minimumSignificantDigits', 1, 21);
    const maxSignificant = numberOption(options, 'maximumSignificantDigits', 1, 21);
    if (minSignificant !== undefined || maxSignificant !== undefined) {
      s.minimumSignificantDigits = minSignificant === undefined ? 1 : minSignificant;
      s.maximumSignificantDigits = maxSignificant === undefined ? 21 : maxSignificant;
      if (s.minimumSignificantDigits > s.maximumSignificantDigits) throw new RangeError('maximumSignificantDigits value is out of range.');
      return s;
    }
    const minFraction = numberOption(options, 'minimumFractionDigits', 0, 100);
    const maxFraction = numberOption(options, 'maximumFractionDigits', 0, 100);
    const defaultMax = style === 'percent' ? 0 : 3;
    s.minimumFractionDigits = minFraction !== undefined ? minFraction : min(0, maxFraction === undefined ? 0 : maxFraction);
    s.maximumFractionDigits = maxFraction !== undefined ? maxFraction : max(defaultMax, s.minimumFractionDigits);
    if (s.minimumFractionDigits > s.maximumFractionDigits) throw new RangeError('maximumFractionDigits value is out of range.');
    return s;
  }

  // The digits of a number, bigint or numeric string, exactly.
  function numericValue(value) {
    if (typeof value === 'bigint') {
      const text = value.toString();
      return text[0] === '-' ? { negative: true, text: text.slice(1) } : { negative: false, text };
    }
    if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value)) {
      const text = value.trim();
      return { negative: text[0] === '-', text: text.replace(/^[+-]/, '') };
    }
    const n = Number(value);
    if (n !== n) return { nan: true };
    return { negative: n < 0 || is(n, -0), text: n === Infinity || n === -Infinity ? 'Infinity' : String(n < 0 ? -n : n) };
  }

  function numberParts(s, value) {
    const v = numericValue(value);
    const parts = [];
    const percent = s.style === 'percent';
    let zero = true;
    if (v.nan) {
      parts.push({ type: 'nan', value: 'NaN' });
    } else if (v.text === 'Infinity') {
      parts.push({ type: 'infinity', value: '∞' });
      zero = false;
    } else {
      let d = decimalOf(v.text);
      if (percent && d.digits !== '') d = { digits: d.digits, point: d.point + 2 };
      let minFraction;
      if (s.maximumSignificantDigits !== undefined) {
        d = roundDigits(d, s.maximumSignificantDigits);
        minFraction = max(0, s.minimumSignificantDigits - (d.digits === '' ? 1 : d.point));
      } else {
        d = roundDigits(d, d.point + s.maximumFractionDigits);
        minFraction = s.minimumFractionDigits;
      }
      zero = d.digits === '';
      let whole = d.point > 0 ? d.digits.slice(0, d.point).padEnd(d.point, '0') : '0';
      let fraction = d.point >= 0 ? d.digits.slice(d.point) : '0'.repeat(-d.point) + d.digits;
      if (!(s.trailingZeroDisplay === 'stripIfInteger' && fraction === '')) fraction = fraction.padEnd(minFraction, '0');
      whole = whole.padStart(s.minimumIntegerDigits, '0');
      const group = s.useGrouping === 'always' || s.useGrouping === 'auto' ? whole.length > 3 : s.useGrouping === 'min2' && whole.length > 4;
      if (group) {
        const first = whole.length % 3 || 3;
        parts.push({ type: 'integer', value: whole.slice(0, first) });
        for (let i = first; i < whole.length; i += 3) {
          parts.push({ type: 'group', value: ',' }, { type: 'integer', value: whole.slice(i, i + 3) });
        }
      } else {
        parts.push({ type: 'integer', value: whole });
      }
      if (fraction !== '') parts.push({ type: 'decimal', value: '.' }, { type: 'fraction', value: fraction });
    }
    const negative = v.negative === true;
    const sign = {
      auto: negative ? '-' : '',
      never: '',
      always: negative ? '-' : '+',
      exceptZero: zero || v.nan ? '' : negative ? '-' : '+',
      negative: negative && !zero ? '-' : '',
    }[s.signDisplay];
    if (sign !== '') parts.unshift({ type: sign === '-' ? 'minusSign' : 'plusSign', value: sign });
    if (percent) parts.push({ type: 'percentSign', value: '%' });
    return parts;
  }

  const joinParts = (parts) => parts.map((part) => part.value).join('');

  // Intl.NumberFormat(locales, options), with or without `new`: decimal
  // and percent styles in standard notation.
  function NumberFormat(locales, options) {
    if (new.target === undefined) return new NumberFormat(locales, options);
    const locale = resolveLocale(locales);
    numberFormats.set(this, { locale, settings: numberSettings(options), bound: undefined });
  }

  const numberFormatMethods = {
    get format() {
      const state = numberFormatState(this, 'format');
      if (state.bound === undefined) state.bound = (value) => joinParts(numberParts(state.settings, value));
      return state.bound;
    },
    formatToParts(value) {
      return numberParts(numberFormatState(this, 'formatToParts').settings, value);
    },
    resolvedOptions() {
      const state = numberFormatState(this, 'resolvedOptions');
      const s = state.settings;
      const out = { locale: state.locale, numberingSystem: 'latn', style: s.style, minimumIntegerDigits: s.minimumIntegerDigits };
      if (s.maximumSignificantDigits !== undefined) {
        out.minimumSignificantDigits = s.minimumSignificantDigits;
        out.maximumSignificantDigits = s.maximumSignificantDigits;
      } else {
        out.minimumFractionDigits = s.minimumFractionDigits;
        out.maximumFractionDigits = s.maximumFractionDigits;
      }
      return assign(out, {
        useGrouping: s.useGrouping,
        notation: 'standard',
        signDisplay: s.signDisplay,
        roundingMode: 'halfExpand',
        roundingIncrement: 1,
        trailingZeroDisplay: s.trailingZeroDisplay,
        roundingPriority: 'auto',
      });
    },
  };

  // ------------------------------------------------------------ PluralRules

  const pluralRules = new WeakMap();

  // Intl.PluralRules(locales, options): English cardinal and ordinal rules,
  // on the number as formatted with the fraction digit options.
  function PluralRules(locales, options) {
    if (new.target === undefined) throw new TypeError("Constructor Intl.PluralRules requires 'new'");
    const locale = resolveLocale(locales);
    const given = optionsObject(options);
    checkOption(given, 'type', ['cardinal', 'ordinal'], 'Intl.PluralRules');
    const type = given.type === undefined ? 'cardinal' : String(given.type);
    pluralRules.set(this, { locale, type, settings: numberSettings(given) });
  }

  const pluralMethods = {
    select(value) {
      const state = pluralRules.get(this);
      if (state === undefined) throw new TypeError('Method Intl.PluralRules.prototype.select called on incompatible receiver');
      const parts = numberParts({ ...state.settings, useGrouping: false, signDisplay: 'never' }, Number(value));
      const text = joinParts(parts);
      if (state.type === 'cardinal') return text === '1' ? 'one' : 'other';
      if (text.includes('.') || !/^\d+$/.test(text)) return 'other';
      const n10 = Number(text.slice(-1));
      const n100 = Number(text.slice(-2));
      if (n10 === 1 && n100 !== 11) return 'one';
      if (n10 === 2 && n100 !== 12) return 'two';
      if (n10 === 3 && n100 !== 13) return 'few';
      return 'other';
    },
    resolvedOptions() {
      const state = pluralRules.get(this);
      if (state === undefined) throw new TypeError('Method Intl.PluralRules.prototype.resolvedOptions called on incompatible receiver');
      const { locale, type, settings } = state;
      const out = { locale, type, minimumIntegerDigits: settings.minimumIntegerDigits };
      if (settings.maximumSignificantDigits !== undefined) {
        out.minimumSignificantDigits = settings.minimumSignificantDigits;
        out.maximumSignificantDigits = settings.maximumSignificantDigits;
      } else {
        out.minimumFractionDigits = settings.minimumFractionDigits;
        out.maximumFractionDigits = settings.maximumFractionDigits;
      }
      out.pluralCategories = type === 'cardinal' ? ['one', 'other'] : ['few', 'one', 'two', 'other'];
      return out;
    },
  };

  // ------------------------------------------------------------- assembling

  // Puts `methods` on `target` as built-ins are: not enumerable.
  function install(target, methods) {
    for (const key of ownKeys(methods)) {
      const descriptor = getOwnPropertyDescriptor(methods, key);
      descriptor.enumerable = false;
      defineProperty(target, key, descriptor);
    }
  }

  function makeConstructor(fn, methods, tag) {
    install(fn.prototype, methods);
    defineProperty(fn.prototype, Symbol.toStringTag, { value: tag, configurable: true });
    install(fn, { supportedLocalesOf(locales) { return supportedLocalesOf(locales); } });
    defineProperty(fn, 'length', { value: 0, configurable: true });
    return fn;
  }

  const Intl = {};
  install(Intl, {
    DateTimeFormat: makeConstructor(DateTimeFormat, dateFormatMethods, 'Intl.DateTimeFormat'),
    NumberFormat: makeConstructor(NumberFormat, numberFormatMethods, 'Intl.NumberFormat'),
    PluralRules: makeConstructor(PluralRules, pluralMethods, 'Intl.PluralRules'),
    getCanonicalLocales(locales) {
      return localeList(locales).map((tag) => supportedTag(tag) || tag);
    },
  });
  defineProperty(Intl, Symbol.toStringTag, { value: 'Intl', configurable: true });

  // ------------------------------------------- Date and Number methods

  function dateMethod(defaults) {
    return function (locales, options) {
      const t = thisTimeValue(this);
      if (t !== t) return 'Invalid Date';
      const locale = resolveLocale(locales);
      const fields = dateFields(options);
      styleCheck(fields, defaults);
      return formatDateNative(t, locale, fields, defaults);
    };
  }

  // Replaces the locale methods of Date and Number with the ones above,
  // keeping the originals' names, lengths (0) and attributes.
  function installDateMethods() {
    const replace = (proto, name, fn) => {
      defineProperty(fn, 'name', { value: name, configurable: true });
      defineProperty(fn, 'length', { value: 0, configurable: true });
      defineProperty(proto, name, { value: fn, writable: true, enumerable: false, configurable: true });
    };
    replace(DateProto, 'toLocaleString', dateMethod('datetime'));
    replace(DateProto, 'toLocaleDateString', dateMethod('date'));
    replace(DateProto, 'toLocaleTimeString', dateMethod('time'));
    replace(NumberProto, 'toLocaleString', function (locales, options) {
      const x = thisNumberValue(this);
      return new NumberFormat(locales, options).format(x);
    });
  }

  return { Intl, installDateMethods };
})
