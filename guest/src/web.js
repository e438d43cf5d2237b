// Node and web platform APIs for user code: `util.inspect` / `util.format`,
// `Buffer`, `atob` / `btoa`, `structuredClone`, `URL`, `URLSearchParams`
// and a minimal `DOMException`.
//
// A factory the prelude calls once, at compile time, with the host functions
// (`natives`); it returns the values the prelude installs as globals and as
// the `buffer`, `util` and `url` modules. Builtins are captured here, so user
// code that replaces globals or prototype methods cannot change how these
// APIs treat the values passed to them; inspecting a value never calls its
// getters.
(function (natives) {
  'use strict';

  // ------------------------------------------------------------ captured builtins

  const uncurry = (fn) => Function.prototype.call.bind(fn);
  const apply = Reflect.apply;
  const ownKeys = Reflect.ownKeys;
  const {
    defineProperty, freeze, getOwnPropertyDescriptor, getOwnPropertyNames,
    getOwnPropertySymbols, getPrototypeOf, keys: objectKeys, is: objectIs,
  } = Object;
  const isArray = Array.isArray;
  const stringify = JSON.stringify;
  const fromCharCode = String.fromCharCode;
  const { min, max, floor, round, sqrt } = Math;
  const parseIntNumber = Number.parseInt;
  const parseFloatNumber = Number.parseFloat;
  const hasOwn = uncurry(Object.prototype.hasOwnProperty);
  const isEnumerable = uncurry(Object.prototype.propertyIsEnumerable);
  const isPrototypeOf = uncurry(Object.prototype.isPrototypeOf);
  const objectToString = uncurry(Object.prototype.toString);
  const functionToString = uncurry(Function.prototype.toString);
  const ordinaryHasInstance = uncurry(Function.prototype[Symbol.hasInstance]);
  const symbolToString = uncurry(Symbol.prototype.toString);
  const regexpToString = uncurry(RegExp.prototype.toString);
  const dateGetTime = uncurry(Date.prototype.getTime);
  const dateToISOString = uncurry(Date.prototype.toISOString);
  const mapGet = uncurry(Map.prototype.get);
  const mapSet = uncurry(Map.prototype.set);
  const mapHas = uncurry(Map.prototype.has);
  const mapEntries = uncurry(Map.prototype.entries);
  const setAdd = uncurry(Set.prototype.add);
  const setValues = uncurry(Set.prototype.values);
  const mapIterNext = uncurry(getPrototypeOf(new Map().entries()).next);
  const setIterNext = uncurry(getPrototypeOf(new Set().values()).next);
  const arrayBufferSlice = uncurry(ArrayBuffer.prototype.slice);
  const TypedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
  const u8Set = uncurry(TypedArrayPrototype.set);
  const u8Subarray = uncurry(TypedArrayPrototype.subarray);
  const u8Fill = uncurry(TypedArrayPrototype.fill);
  const getter = (proto, key) => uncurry(getOwnPropertyDescriptor(proto, key).get);
  const mapSize = getter(Map.prototype, 'size');
  const setSize = getter(Set.prototype, 'size');
  const arrayBufferByteLength = getter(ArrayBuffer.prototype, 'byteLength');
  const typedArrayTag = getter(TypedArrayPrototype, Symbol.toStringTag);
  const typedArrayLength = getter(TypedArrayPrototype, 'length');
  const typedArrayBuffer = getter(TypedArrayPrototype, 'buffer');
  const typedArrayByteOffset = getter(TypedArrayPrototype, 'byteOffset');
  const dataViewBuffer = getter(DataView.prototype, 'buffer');
  const dataViewByteLength = getter(DataView.prototype, 'byteLength');
  const dataViewByteOffset = getter(DataView.prototype, 'byteOffset');
  const regexpSource = getter(RegExp.prototype, 'source');
  const regexpFlags = getter(RegExp.prototype, 'flags');
  const toWellFormed = String.prototype.toWellFormed;
  const encoder = new TextEncoder();
  const encodeUtf8 = uncurry(encoder.encode);
  const decoder = new TextDecoder('utf-8');
  const decodeUtf8Raw = uncurry(decoder.decode);
  const base64Encode = natives.base64Encode;
  const base64Decode = natives.base64Decode;
  const urlParse = natives.urlParse;
  const urlSet = natives.urlSet;
  const customInspect = Symbol.for('nodejs.util.inspect.custom');
  const AsyncFunctionPrototype = getPrototypeOf(async function () {});
  const GeneratorFunctionPrototype = getPrototypeOf(function* () {});
  const AsyncGeneratorFunctionPrototype = getPrototypeOf(async function* () {});
  const typedArrays = { __proto__: null };
  for (const C of [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
    Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]) typedArrays[C.name] = C;
  const errorTypes = { __proto__: null, Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
  // Reads `stack` when the engine defines it as an accessor rather than a value.
  const nativeStackGetter = (getOwnPropertyDescriptor(new Error(), 'stack')
    || getOwnPropertyDescriptor(Error.prototype, 'stack') || {}).get;

  // True when `check(value)` does not throw: brand checks via captured getters.
  function is(check, value) {
    try {
      check(value);
      return true;
    } catch (_) {
      return false;
    }
  }
  const isMap = (v) => is(mapSize, v);
  const isSet = (v) => is(setSize, v);
  const isDate = (v) => is(dateGetTime, v);
  const isRegExp = (v) => v !== RegExp.prototype && is(regexpSource, v);
  const isArrayBuffer = (v) => is(arrayBufferByteLength, v);
  const isDataView = (v) => is(dataViewByteLength, v);
  const isTypedArray = (v) => typedArrayTag(v) !== undefined;
  const isUint8Array = (v) => typedArrayTag(v) === 'Uint8Array';
  const isError = (v) => isPrototypeOf(Error.prototype, v) || objectToString(v) === '[object Error]';
  const boxedTypes = [
    ['Number', uncurry(Number.prototype.valueOf)], ['String', uncurry(String.prototype.valueOf)],
    ['Boolean', uncurry(Boolean.prototype.valueOf)], ['BigInt', uncurry(BigInt.prototype.valueOf)],
    ['Symbol', uncurry(Symbol.prototype.valueOf)],
  ];
  const boxedType = (v) => boxedTypes.find((entry) => is(entry[1], v));
  const usv = toWellFormed ? uncurry(toWellFormed)
    : (s) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

  // The descriptor of `key` on `obj` or its prototype chain, without invoking anything but proxy traps.
  function lookup(obj, key) {
    for (let o = obj; o !== null && o !== undefined; o = getPrototypeOf(o)) {
      const desc = getOwnPropertyDescriptor(o, key);
      if (desc !== undefined) return desc;
    }
    return undefined;
  }
  // `obj[key]` when it is a data property; undefined for accessors.
  function dataGet(obj, key) {
    const desc = lookup(obj, key);
    return desc !== undefined ? desc.value : undefined;
  }

  // UTF-8 decoding that keeps a leading BOM (as Node's buffer.toString does).
  const decoderStripsBom = decodeUtf8Raw(decoder, new Uint8Array([0xef, 0xbb, 0xbf])) === '';
  function decodeUtf8(bytes) {
    const bom = decoderStripsBom && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
    return (bom ? '\uFEFF' : '') + decodeUtf8Raw(decoder, bytes);
  }

  // An error like Node's internal ones: `code` property, `Name [CODE]: message` string form.
  function nodeError(Ctor, code, message) {
    const error = new Ctor(message);
    error.code = code;
    defineProperty(error, 'toString', {
      value() { return `${error.name} [${code}]: ${message}`; }, writable: true, configurable: true,
    });
    return error;
  }
  const missingArgs = (...names) => nodeError(TypeError, 'ERR_MISSING_ARGS',
    `The ${names.map((n) => `"${n}"`).join(' and ')} argument${names.length > 1 ? 's' : ''} must be specified`);

  // ----------------------------------------------------------------- DOMException

  const domExceptionCodes = {
    __proto__: null, IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4,
    InvalidCharacterError: 5, NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9,
    InUseAttributeError: 10, InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13,
    NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18,
    NetworkError: 19, AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
    InvalidNodeTypeError: 24, DataCloneError: 25,
  };

  class DOMException extends Error {
    constructor(message = '', options = 'Error') {
      super(`${message}`);
      let name = 'Error';
      if (options !== null && typeof options === 'object') {
        if ('name' in options) name = `${options.name}`;
        if ('cause' in options) {
          defineProperty(this, 'cause', { value: options.cause, writable: true, configurable: true });
        }
      } else {
        name = `${options}`;
      }
      defineProperty(this, 'name', { value: name, writable: true, configurable: true });
      defineProperty(this, 'code', { value: domExceptionCodes[name] || 0, writable: true, configurable: true });
    }
  }
  defineProperty(DOMException.prototype, Symbol.toStringTag, { value: 'DOMException', configurable: true });

  // ---------------------------------------------------------------------- inspect

  const kObjectType = 0;
  const kArrayType = 1;
  const kArrayExtrasType = 2;
  const inspectDefaults = {
    showHidden: false, depth: 2, customInspect: true, maxArrayLength: 100,
    maxStringLength: 10000, breakLength: 80, compact: 3, sorted: false,
  };
  const keyStrRegExp = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
  const numberRegExp = /^(0|[1-9][0-9]*)$/;
  const escapeRegExpGlobal = /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const escapeRegExpNoQuote = /[\x00-\x1f\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const meta = [];
  for (let i = 0; i < 0xa0; i++) {
    meta[i] = i < 0x20 || i >= 0x7f ? `\\x${(i < 16 ? '0' : '') + i.toString(16).toUpperCase()}` : '';
  }
  meta[8] = '\\b'; meta[9] = '\\t'; meta[10] = '\\n'; meta[12] = '\\f'; meta[13] = '\\r';
  meta[0x27] = "\\'"; meta[0x5c] = '\\\\';
  const escapeChar = (c) => {
    const code = c.charCodeAt(0);
    return code < meta.length ? meta[code] : `\\u${code.toString(16)}`;
  };

  // Quotes a string as Node does: single quotes unless the text contains them.
  function strEscape(str) {
    let quote = "'";
    let pattern = escapeRegExpGlobal;
    if (str.includes("'")) {
      if (!str.includes('"')) quote = '"';
      else if (!str.includes('`') && !str.includes('${')) quote = '`';
      if (quote !== "'") pattern = escapeRegExpNoQuote;
    }
    pattern.lastIndex = 0;
    return quote + str.replace(pattern, escapeChar) + quote;
  }

  const remainingText = (n) => `... ${n} more item${n > 1 ? 's' : ''}`;
  const formatNumber = (n) => (objectIs(n, -0) ? '-0' : `${n}`);

  function formatPrimitive(value, ctx) {
    switch (typeof value) {
      case 'string': {
        let trailer = '';
        if (value.length > ctx.maxStringLength) {
          const remaining = value.length - ctx.maxStringLength;
          value = value.slice(0, ctx.maxStringLength);
          trailer = `... ${remaining} more character${remaining > 1 ? 's' : ''}`;
        }
        if (value.length > 16 && value.length > ctx.breakLength - ctx.indentationLvl - 4) {
          return value.split(/(?<=\n)/).map(strEscape).join(` +\n${' '.repeat(ctx.indentationLvl + 2)}`) + trailer;
        }
        return strEscape(value) + trailer;
      }
      case 'number': return formatNumber(value);
      case 'bigint': return `${value}n`;
      case 'symbol': return symbolToString(value);
      default: return `${value}`;
    }
  }

  // The name of the nearest constructor on the prototype chain, or null.
  function getConstructorName(obj) {
    for (let o = obj; o !== null; o = getPrototypeOf(o)) {
      const desc = getOwnPropertyDescriptor(o, 'constructor');
      if (desc !== undefined && typeof desc.value === 'function') {
        const name = dataGet(desc.value, 'name');
        if (typeof name === 'string' && name !== '' && is(() => {
          if (!ordinaryHasInstance(desc.value, obj)) throw obj;
        })) return name;
      }
    }
    return null;
  }

  function getPrefix(constructor, tag, fallback, size = '') {
    if (constructor === null) {
      if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
      return `[${fallback}${size}: null prototype] `;
    }
    if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
    return `${constructor}${size} `;
  }
  const getCtxStyle = (value, constructor, tag) => getPrefix(constructor, tag,
    constructor === null ? (typeof value === 'function' ? 'Function' : 'Object') : '');

  function getKeys(value, showHidden) {
    const keys = showHidden ? getOwnPropertyNames(value) : objectKeys(value);
    for (const symbol of getOwnPropertySymbols(value)) {
      if (showHidden || isEnumerable(value, symbol)) keys.push(symbol);
    }
    return keys;
  }
  const nonIndexKeys = (value, showHidden) => getKeys(value, showHidden)
    .filter((key) => typeof key !== 'string' || !numberRegExp.test(key) || +key > 2 ** 32 - 2);

  function getFunctionBase(value, constructor, tag) {
    let source = '';
    try {
      source = functionToString(value);
    } catch (_) { /* not a plain function */ }
    if (source.startsWith('class') && source.endsWith('}')) {
      const name = (hasOwn(value, 'name') && dataGet(value, 'name')) || '(anonymous)';
      let base = `class ${name}`;
      if (constructor !== 'Function' && constructor !== null) base += ` [${constructor}]`;
      if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
      const superName = dataGet(getPrototypeOf(value), 'name');
      if (constructor === null) base += ' extends [null prototype]';
      else if (typeof superName === 'string' && superName !== '') base += ` extends ${superName}`;
      return `[${base}]`;
    }
    let type = 'Function';
    if (isPrototypeOf(GeneratorFunctionPrototype, value)) type = 'GeneratorFunction';
    else if (isPrototypeOf(AsyncGeneratorFunctionPrototype, value)) type = 'AsyncGeneratorFunction';
    else if (isPrototypeOf(AsyncFunctionPrototype, value)) type = 'AsyncFunction';
    const name = dataGet(value, 'name');
    let base = `[${type}${constructor === null ? ' (null prototype)' : ''}`;
    base += typeof name === 'string' && name !== '' ? `: ${name}]` : ' (anonymous)]';
    if (constructor !== type && constructor !== null && constructor !== 'Function') base += ` ${constructor}`;
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    return base;
  }

  // `Name: message\n    at ...`: QuickJS's `stack` holds only the frames.
  function errorStack(err, name, message) {
    const desc = lookup(err, 'stack');
    let stack;
    if (desc !== undefined && 'value' in desc) stack = desc.value;
    else if (desc !== undefined && desc.get === nativeStackGetter && desc.get !== undefined) stack = apply(desc.get, err, []);
    const head = name === '' ? message : message === '' ? name : `${name}: ${message}`;
    if (typeof stack !== 'string' || stack === '') return head;
    if (/^\s+at /.test(stack)) return `${head}\n${stack.replace(/\n+$/, '')}`;
    return stack;
  }

  function formatError(err, constructor, tag, ctx, keys) {
    const nameValue = dataGet(err, 'name');
    const messageValue = dataGet(err, 'message');
    const name = typeof nameValue === 'string' ? nameValue : 'Error';
    const message = typeof messageValue === 'string' ? messageValue : '';
    let stack = errorStack(err, name, message);
    for (const key of ['name', 'message', 'stack']) {
      const index = keys.indexOf(key);
      const v = dataGet(err, key);
      if (index !== -1 && (typeof v !== 'string' || stack.includes(v))) keys.splice(index, 1);
    }
    if (lookup(err, 'cause') !== undefined && !keys.includes('cause')) keys.push('cause');
    if (isArray(dataGet(err, 'errors')) && !keys.includes('errors')) keys.push('errors');
    // Show the constructor when it differs from the name (`Foo [Error]: ...`).
    let len = name.length;
    if (constructor === null || (name.endsWith('Error') && stack.startsWith(name)
        && (stack.length === len || stack[len] === ':' || stack[len] === '\n'))) {
      let fallback = 'Error';
      if (constructor === null) {
        const start = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n {4}at)/.exec(stack) || /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
        fallback = (start && start[1]) || '';
        len = fallback.length;
        fallback = fallback || 'Error';
      }
      const prefix = getPrefix(constructor, tag, fallback).slice(0, -1);
      if (name !== prefix) {
        if (prefix.includes(name)) stack = len === 0 ? `${prefix}: ${stack}` : `${prefix}${stack.slice(len)}`;
        else stack = `${prefix} [${name}]${stack.slice(len)}`;
      }
    }
    let pos = (message && stack.indexOf(message)) || -1;
    if (pos !== -1) pos += message.length;
    if (stack.indexOf('\n    at', pos) === -1) stack = `[${stack}]`;
    if (ctx.indentationLvl !== 0) stack = stack.replaceAll('\n', `\n${' '.repeat(ctx.indentationLvl)}`);
    return stack;
  }

  function formatArray(ctx, value, recurseTimes) {
    const length = value.length;
    const shown = min(max(0, ctx.maxArrayLength), length);
    const output = [];
    let index = 0;
    let indices;
    for (let i = 0; i < length && output.length < shown; i++) {
      if (!hasOwn(value, i)) {
        // A hole: count the items up to the next own index.
        if (indices === undefined) indices = objectKeys(value).filter((key) => numberRegExp.test(key)).map(Number);
        let next = indices.find((n) => n > i);
        if (next === undefined) next = length;
        const empty = next - i;
        output.push(`<${empty} empty item${empty > 1 ? 's' : ''}>`);
        i = next - 1;
        index = next;
        continue;
      }
      output.push(formatProperty(ctx, value, recurseTimes, i, kArrayType));
      index = i + 1;
    }
    if (index < length) output.push(remainingText(length - index));
    return output;
  }

  function formatTypedArray(ctx, value) {
    const length = typedArrayLength(value);
    const shown = min(max(0, ctx.maxArrayLength), length);
    const output = [];
    for (let i = 0; i < shown; i++) output.push(formatPrimitive(value[i], ctx));
    if (length > shown) output.push(remainingText(length - shown));
    return output;
  }

  function hexBytes(bytes, limit) {
    const shown = min(limit, bytes.length);
    let str = '';
    for (let i = 0; i < shown; i++) str += (i ? ' ' : '') + hexByte[bytes[i]];
    const remaining = bytes.length - shown;
    if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? 's' : ''}`;
    return str;
  }

  // Set values or Map `key => value` entries, read with the captured iterators.
  function formatCollection(ctx, value, recurseTimes) {
    const set = isSet(value);
    const size = set ? setSize(value) : mapSize(value);
    const shown = min(max(0, ctx.maxArrayLength), size);
    const iterator = set ? setValues(value) : mapEntries(value);
    const next = set ? setIterNext : mapIterNext;
    const output = [];
    ctx.indentationLvl += 2;
    for (let step = next(iterator); !step.done && output.length < shown; step = next(iterator)) {
      output.push(set ? formatValue(ctx, step.value, recurseTimes)
        : `${formatValue(ctx, step.value[0], recurseTimes)} => ${formatValue(ctx, step.value[1], recurseTimes)}`);
    }
    ctx.indentationLvl -= 2;
    if (size > shown) output.push(remainingText(size - shown));
    return output;
  }

  function formatProperty(ctx, value, recurseTimes, key, type) {
    const desc = getOwnPropertyDescriptor(value, key) || { value: dataGet(value, key), enumerable: true };
    let str;
    if (desc.value !== undefined) {
      ctx.indentationLvl += 2;
      str = formatValue(ctx, desc.value, recurseTimes);
      ctx.indentationLvl -= 2;
    } else if (desc.get !== undefined) {
      str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
    } else {
      str = desc.set !== undefined ? '[Setter]' : 'undefined';
    }
    if (type === kArrayType) return str;
    let name;
    if (typeof key === 'symbol') name = `[${symbolToString(key).replace(escapeRegExpGlobal, escapeChar)}]`;
    else if (key === '__proto__') name = "['__proto__']";
    else if (desc.enumerable === false) name = `[${key.replace(escapeRegExpGlobal, escapeChar)}]`;
    else if (keyStrRegExp.test(key)) name = key;
    else name = strEscape(key);
    return `${name}: ${str}`;
  }

  function isBelowBreakLength(ctx, output, start, base) {
    let totalLength = output.length + start;
    if (totalLength + output.length > ctx.breakLength) return false;
    for (const entry of output) {
      totalLength += entry.length;
      if (totalLength > ctx.breakLength) return false;
    }
    return base === '' || !base.includes('\n');
  }

  // Lays short array entries out in aligned columns (Node's grouping).
  function groupArrayElements(ctx, output, value) {
    let totalLength = 0;
    let maxLength = 0;
    let outputLength = output.length;
    if (ctx.maxArrayLength < output.length) outputLength--;
    const separatorSpace = 2;
    const dataLen = [];
    for (let i = 0; i < outputLength; i++) {
      const len = output[i].length;
      dataLen[i] = len;
      totalLength += len + separatorSpace;
      if (maxLength < len) maxLength = len;
    }
    const actualMax = maxLength + separatorSpace;
    if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength
        && (totalLength / actualMax > 5 || maxLength <= 6)) {
      const averageBias = sqrt(actualMax - totalLength / output.length);
      const biasedMax = max(actualMax - 3 - averageBias, 1);
      const columns = min(
        round(sqrt(2.5 * biasedMax * outputLength) / biasedMax),
        floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
        ctx.compact * 4,
        15,
      );
      if (columns <= 1) return output;
      const tmp = [];
      const maxLineLength = [];
      for (let i = 0; i < columns; i++) {
        let lineLength = 0;
        for (let j = i; j < output.length; j += columns) if (dataLen[j] > lineLength) lineLength = dataLen[j];
        maxLineLength.push(lineLength + separatorSpace);
      }
      let padStart = true;
      if (value !== undefined) {
        for (let i = 0; i < output.length; i++) {
          const desc = getOwnPropertyDescriptor(value, i);
          const type = desc === undefined ? 'undefined' : typeof desc.value;
          if (type !== 'number' && type !== 'bigint') { padStart = false; break; }
        }
      }
      for (let i = 0; i < outputLength; i += columns) {
        const last = min(i + columns, outputLength);
        let str = '';
        let j = i;
        for (; j < last - 1; j++) {
          const cell = `${output[j]}, `;
          str += padStart ? cell.padStart(maxLineLength[j - i]) : cell.padEnd(maxLineLength[j - i]);
        }
        str += padStart ? output[j].padStart(maxLineLength[j - i] - separatorSpace) : output[j];
        tmp.push(str);
      }
      if (ctx.maxArrayLength < output.length) tmp.push(output[outputLength]);
      output = tmp;
    }
    return output;
  }

  // One line when the entries are few, shallow and short enough; otherwise one entry per line.
  function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
    const prefix = `${base ? `${base} ` : ''}${braces[0]}`;
    const compact = ctx.compact === true ? Infinity : ctx.compact;
    if (typeof compact === 'number' && compact >= 1) {
      const entries = output.length;
      if (extrasType === kArrayExtrasType && entries > 6) output = groupArrayElements(ctx, output, value);
      if (ctx.currentDepth - recurseTimes < compact && entries === output.length) {
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        const joined = output.join(', ');
        if (isBelowBreakLength(ctx, output, start, base) && !joined.includes('\n')) return `${prefix} ${joined} ${braces[1]}`;
      }
    }
    const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
    return `${prefix}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }

  const noEntries = () => [];

  function formatRaw(ctx, value, recurseTimes) {
    const constructor = getConstructorName(value);
    let tag = dataGet(value, Symbol.toStringTag);
    if (typeof tag !== 'string' || (tag !== '' && (ctx.showHidden ? hasOwn : isEnumerable)(value, Symbol.toStringTag))) {
      tag = '';
    }
    let base = '';
    let formatter = noEntries;
    let braces = ['{', '}'];
    let keys;
    let extrasType = kObjectType;
    const typedTag = typedArrayTag(value);
    if (isArray(value)) {
      const prefix = constructor !== 'Array' || tag !== '' ? getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
      keys = nonIndexKeys(value, ctx.showHidden);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatArray;
    } else if (typedTag !== undefined) {
      const length = typedArrayLength(value);
      keys = nonIndexKeys(value, ctx.showHidden);
      braces = [`${getPrefix(constructor, tag, typedTag, `(${length})`)}[`, ']'];
      if (length === 0 && keys.length === 0) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatTypedArray;
    } else if (isSet(value) || isMap(value)) {
      const set = isSet(value);
      const size = set ? setSize(value) : mapSize(value);
      const prefix = getPrefix(constructor, tag, set ? 'Set' : 'Map', `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      if (size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
      formatter = formatCollection;
    } else {
      keys = getKeys(value, ctx.showHidden);
      const boxed = boxedType(value);
      if (typeof value === 'function') {
        base = getFunctionBase(value, constructor, tag);
        if (keys.length === 0) return base;
      } else if (constructor === 'Object' && !isError(value)) {
        if (objectToString(value) === '[object Arguments]') braces[0] = '[Arguments] {';
        else if (tag !== '') braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
        if (keys.length === 0) return `${braces[0]}}`;
      } else if (isRegExp(value)) {
        base = regexpToString(value);
        const prefix = getPrefix(constructor, tag, 'RegExp');
        if (prefix !== 'RegExp ') base = `${prefix}${base}`;
        if (keys.length === 0 || recurseTimes > ctx.depth) return base;
      } else if (isDate(value)) {
        const time = dateGetTime(value);
        base = time === time ? dateToISOString(value) : 'Invalid Date';
        const prefix = getPrefix(constructor, tag, 'Date');
        if (prefix !== 'Date ') base = `${prefix}${base}`;
        if (keys.length === 0) return base;
      } else if (isError(value)) {
        base = formatError(value, constructor, tag, ctx, keys);
        if (keys.length === 0) return base;
      } else if (isArrayBuffer(value)) {
        braces[0] = `${getPrefix(constructor, tag, 'ArrayBuffer')}{`;
        formatter = (_, buffer) => [`[Uint8Contents]: <${hexBytes(new Uint8Array(buffer), ctx.maxArrayLength)}>`,
          `byteLength: ${arrayBufferByteLength(buffer)}`];
      } else if (isDataView(value)) {
        braces[0] = `${getPrefix(constructor, tag, 'DataView')}{`;
        formatter = (_, view, depth) => {
          ctx.indentationLvl += 2;
          const buffer = formatValue(ctx, dataViewBuffer(view), depth);
          ctx.indentationLvl -= 2;
          return [`byteLength: ${dataViewByteLength(view)}`, `byteOffset: ${dataViewByteOffset(view)}`, `buffer: ${buffer}`];
        };
      } else if (isPrototypeOf(Promise.prototype, value)) {
        braces[0] = `${getPrefix(constructor, tag, 'Promise')}{`;
        formatter = () => ['<unknown>'];
      } else if (isPrototypeOf(WeakSet.prototype, value) || isPrototypeOf(WeakMap.prototype, value)) {
        braces[0] = `${getPrefix(constructor, tag, isPrototypeOf(WeakSet.prototype, value) ? 'WeakSet' : 'WeakMap')}{`;
        formatter = () => ['<items unknown>'];
      } else if (boxed !== undefined) {
        const [type, valueOf] = boxed;
        if (type === 'String') keys.splice(0, valueOf(value).length);
        base = `[${type}${type === constructor ? '' : constructor === null ? ' (null prototype)' : ` (${constructor})`}`
          + `: ${formatPrimitive(valueOf(value), { ...ctx, breakLength: Infinity })}]`;
        if (tag !== '' && tag !== constructor) base += ` [${tag}]`;
        if (keys.length === 0) return base;
      } else {
        braces[0] = `${getCtxStyle(value, constructor, tag)}{`;
        if (keys.length === 0) return `${braces[0]}}`;
      }
    }
    if (recurseTimes > ctx.depth) {
      const name = getCtxStyle(value, constructor, tag).slice(0, -1);
      return constructor !== null ? `[${name}]` : name;
    }
    recurseTimes += 1;
    ctx.seen.push(value);
    ctx.currentDepth = recurseTimes;
    const output = formatter(ctx, value, recurseTimes);
    for (const key of keys) output.push(formatProperty(ctx, value, recurseTimes, key, extrasType));
    const index = ctx.circular === undefined ? undefined : mapGet(ctx.circular, value);
    if (index !== undefined) base = base === '' ? `<ref *${index}>` : `<ref *${index}> ${base}`;
    ctx.seen.pop();
    if (ctx.sorted && extrasType === kObjectType) output.sort(typeof ctx.sorted === 'function' ? ctx.sorted : undefined);
    return reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
  }

  // The options a custom inspect function receives.
  function userOptions(ctx) {
    const options = { stylize: (s) => `${s}` };
    for (const key of objectKeys(inspectDefaults)) options[key] = ctx[key];
    if (options.depth === Infinity) options.depth = null;
    return options;
  }

  function formatValue(ctx, value, recurseTimes) {
    if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(value, ctx);
    if (value === null) return 'null';
    const seen = ctx.seen.length;
    const indentation = ctx.indentationLvl;
    try {
      if (ctx.customInspect) {
        const custom = dataGet(value, customInspect);
        const constructor = dataGet(value, 'constructor');
        const isPrototype = typeof constructor === 'function' && hasOwn(constructor, 'prototype')
          && dataGet(constructor, 'prototype') === value;
        if (typeof custom === 'function' && custom !== inspect && !isPrototype) {
          const depth = ctx.depth === Infinity ? null : ctx.depth - recurseTimes;
          const result = apply(custom, value, [depth, userOptions(ctx), inspect]);
          if (result !== value) {
            if (typeof result !== 'string') return formatValue(ctx, result, recurseTimes);
            return result.replaceAll('\n', `\n${' '.repeat(ctx.indentationLvl)}`);
          }
        }
      }
      if (ctx.seen.includes(value)) {
        if (ctx.circular === undefined) ctx.circular = new Map();
        if (!mapHas(ctx.circular, value)) mapSet(ctx.circular, value, ctx.circular.size + 1);
        return `[Circular *${mapGet(ctx.circular, value)}]`;
      }
      return formatRaw(ctx, value, recurseTimes);
    } catch (_) {
      ctx.seen.length = seen;
      ctx.indentationLvl = indentation;
      return '<Inspection threw>';
    }
  }

  // util.inspect(value[, options]); also the legacy (value, showHidden, depth) form.
  function inspect(value, options) {
    const ctx = { ...inspectDefaults, seen: [], circular: undefined, indentationLvl: 0, currentDepth: 0 };
    if (options !== null && typeof options === 'object') {
      for (const key of objectKeys(inspectDefaults)) {
        const v = options[key];
        if (v !== undefined) ctx[key] = v;
      }
    } else if (typeof options === 'boolean') {
      ctx.showHidden = options;
      if (arguments.length > 2 && arguments[2] !== undefined) ctx.depth = arguments[2];
    }
    if (ctx.depth === null) ctx.depth = Infinity;
    if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
    if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
    return formatValue(ctx, value, 0);
  }
  inspect.custom = customInspect;
  inspect.defaultOptions = inspectDefaults;

  // ----------------------------------------------------------------------- format

  const builtInNames = new Set();
  for (const name of getOwnPropertyNames(globalThis)) if (/^[A-Z][a-zA-Z0-9]+$/.test(name)) setAdd(builtInNames, name);

  // Whether `%s` should inspect `value` (no user-defined toString / toPrimitive).
  function hasBuiltInToString(value) {
    const toStringDesc = lookup(value, 'toString');
    const toPrimitiveDesc = lookup(value, Symbol.toPrimitive);
    const toStringFn = toStringDesc && typeof toStringDesc.value === 'function';
    if (!toStringFn && !(toPrimitiveDesc && typeof toPrimitiveDesc.value === 'function')) return true;
    if (hasOwn(value, 'toString') || hasOwn(value, Symbol.toPrimitive)) return false;
    let pointer = value;
    do pointer = getPrototypeOf(pointer);
    while (pointer !== null && !hasOwn(pointer, 'toString') && !hasOwn(pointer, Symbol.toPrimitive));
    const constructor = pointer === null ? undefined : dataGet(pointer, 'constructor');
    return typeof constructor === 'function' && builtInNames.has(dataGet(constructor, 'name'));
  }

  function tryStringify(value) {
    try {
      return stringify(value);
    } catch (error) {
      if (error instanceof TypeError && /circular|cyclic/i.test(`${dataGet(error, 'message')}`)) return '[Circular]';
      throw error;
    }
  }

  // util.format(format, ...args)
  function format(...args) {
    const first = args[0];
    let a = 0;
    let str = '';
    let join = '';
    if (typeof first === 'string') {
      if (args.length === 1) return first;
      let lastPos = 0;
      let tempStr;
      for (let i = 0; i < first.length - 1; i++) {
        if (first.charCodeAt(i) !== 37) continue; // '%'
        const next = first.charCodeAt(++i);
        if (a + 1 !== args.length) {
          switch (next) {
            case 115: { // 's'
              const arg = args[++a];
              if (typeof arg === 'number' || typeof arg === 'bigint') tempStr = formatPrimitive(arg, inspectDefaults);
              else if (typeof arg !== 'object' || arg === null || !hasBuiltInToString(arg)) tempStr = String(arg);
              else tempStr = inspect(arg, { depth: 0 });
              break;
            }
            case 106: tempStr = tryStringify(args[++a]); break; // 'j'
            case 100: { // 'd'
              const arg = args[++a];
              if (typeof arg === 'bigint') tempStr = `${arg}n`;
              else tempStr = typeof arg === 'symbol' ? 'NaN' : formatNumber(Number(arg));
              break;
            }
            case 79: tempStr = inspect(args[++a]); break; // 'O'
            case 111: tempStr = inspect(args[++a], { showHidden: true, depth: 4 }); break; // 'o'
            case 105: { // 'i'
              const arg = args[++a];
              if (typeof arg === 'bigint') tempStr = `${arg}n`;
              else tempStr = typeof arg === 'symbol' ? 'NaN' : formatNumber(parseIntNumber(arg));
              break;
            }
            case 102: { // 'f'
              const arg = args[++a];
              tempStr = typeof arg === 'symbol' ? 'NaN' : formatNumber(parseFloatNumber(arg));
              break;
            }
            case 99: a += 1; tempStr = ''; break; // 'c'
            case 37: str += first.slice(lastPos, i); lastPos = i + 1; continue; // '%'
            default: continue;
          }
          if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
          str += tempStr;
          lastPos = i + 1;
        } else if (next === 37) {
          str += first.slice(lastPos, i);
          lastPos = i + 1;
        }
      }
      if (lastPos !== 0) {
        a++;
        join = ' ';
        if (lastPos < first.length) str += first.slice(lastPos);
      }
    }
    for (; a < args.length; a++) {
      const value = args[a];
      str += join + (typeof value === 'string' ? value : inspect(value));
      join = ' ';
    }
    return str;
  }

  // ----------------------------------------------------------------------- Buffer

  const hexByte = [];
  for (let i = 0; i < 256; i++) hexByte[i] = (i < 16 ? '0' : '') + i.toString(16);
  const hexValue = (c) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);

  const encodingNames = {
    __proto__: null, utf8: 'utf8', 'utf-8': 'utf8', hex: 'hex', base64: 'base64', base64url: 'base64url',
    latin1: 'latin1', binary: 'latin1', ascii: 'ascii', ucs2: 'utf16le', 'ucs-2': 'utf16le',
    utf16le: 'utf16le', 'utf-16le': 'utf16le',
  };
  const normalizeEncoding = (encoding) => encodingNames[`${encoding}`.toLowerCase()];
  function encodingOf(encoding) {
    if (encoding === undefined) return 'utf8';
    const name = normalizeEncoding(encoding);
    if (name === undefined) throw nodeError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${encoding}`);
    return name;
  }

  // A Buffer over a Uint8Array's memory.
  const asBuffer = (bytes) => new Buffer(typedArrayBuffer(bytes), typedArrayByteOffset(bytes), typedArrayLength(bytes));

  // string -> bytes in a known (normalized) encoding.
  function encode(string, encoding) {
    const length = string.length;
    switch (encoding) {
      case 'utf8': return asBuffer(encodeUtf8(encoder, string));
      case 'base64': case 'base64url': return new Buffer(base64Decode(string, true));
      case 'hex': {
        const out = new Buffer(length >>> 1);
        let i = 0;
        for (; i < out.length; i++) {
          const hi = hexValue(string.charCodeAt(2 * i));
          const lo = hexValue(string.charCodeAt(2 * i + 1));
          if (hi < 0 || lo < 0) break;
          out[i] = hi * 16 + lo;
        }
        return i === out.length ? out : u8Subarray(out, 0, i);
      }
      case 'utf16le': {
        const out = new Buffer(length * 2);
        for (let i = 0; i < length; i++) {
          const c = string.charCodeAt(i);
          out[2 * i] = c & 255;
          out[2 * i + 1] = c >>> 8;
        }
        return out;
      }
      default: { // latin1, ascii
        const out = new Buffer(length);
        for (let i = 0; i < length; i++) out[i] = string.charCodeAt(i);
        return out;
      }
    }
  }

  // bytes -> string in a known (normalized) encoding.
  function decode(bytes, encoding) {
    switch (encoding) {
      case 'utf8': return decodeUtf8(bytes);
      case 'base64': return base64Encode(bytes, false);
      case 'base64url': return base64Encode(bytes, true);
      case 'hex': {
        let out = '';
        for (let i = 0; i < bytes.length; i++) out += hexByte[bytes[i]];
        return out;
      }
      case 'utf16le': {
        let out = '';
        for (let i = 0; i + 1 < bytes.length; i += 2) out += fromCharCode(bytes[i] | (bytes[i + 1] << 8));
        return out;
      }
      default: { // latin1, ascii
        const source = encoding === 'ascii' ? new Uint8Array(bytes).map((b) => b & 0x7f) : bytes;
        let out = '';
        for (let i = 0; i < source.length; i += 8192) out += apply(fromCharCode, null, u8Subarray(source, i, i + 8192));
        return out;
      }
    }
  }

  function invalidArgType(name, expected, value) {
    const received = value === null ? 'null' : typeof value === 'object' || typeof value === 'function'
      ? `an instance of ${getConstructorName(value) || 'Object'}` : `type ${typeof value} (${inspect(value)})`;
    return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The ${name} must be ${expected}. Received ${received}`);
  }

  function checkSize(size) {
    if (typeof size !== 'number') throw invalidArgType('"size" argument', 'of type number', size);
    if (!(size >= 0 && size <= 2 ** 32)) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE',
        `The value of "size" is out of range. It must be >= 0 && <= ${2 ** 32}. Received ${size}`);
    }
    return size;
  }

  function compareBytes(a, b) {
    const length = min(a.length, b.length);
    for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  }

  function requireUint8Array(value, name) {
    if (!isUint8Array(value)) throw invalidArgType(`"${name}" argument`, 'an instance of Buffer or Uint8Array', value);
    return value;
  }

  // The position of `needle` (bytes) in `bytes`, searching from `from` in `direction`.
  function search(bytes, needle, from, direction) {
    const last = bytes.length - needle.length;
    for (let i = direction > 0 ? from : min(from, last); direction > 0 ? i <= last : i >= 0; i += direction) {
      let j = 0;
      while (j < needle.length && bytes[i + j] === needle[j]) j++;
      if (j === needle.length) return i;
    }
    return -1;
  }

  function indexOf(buffer, value, byteOffset, encoding, direction) {
    if (typeof byteOffset === 'string') {
      encoding = byteOffset;
      byteOffset = undefined;
    }
    const length = buffer.length;
    let from = byteOffset === undefined ? (direction > 0 ? 0 : length) : Number(byteOffset) || 0;
    if (from < 0) from += length;
    if (direction > 0) from = max(from, 0);
    else if (from < 0) return -1;
    let needle;
    if (typeof value === 'number') needle = [value & 255];
    else if (typeof value === 'string') needle = encode(value, encodingOf(encoding));
    else needle = requireUint8Array(value, 'value');
    if (needle.length === 0) return min(from, length);
    return search(buffer, needle, from, direction);
  }

  class Buffer extends Uint8Array {
    // `new Buffer(...)` is Node's deprecated form; `Buffer.from` is preferred.
    constructor(value, encodingOrOffset, length) {
      if (typeof value === 'string') return Buffer.from(value, encodingOrOffset);
      super(value, encodingOrOffset, length);
    }

    static from(value, encodingOrOffset, length) {
      if (typeof value === 'string') {
        const encoding = typeof encodingOrOffset === 'string' && encodingOrOffset !== '' ? encodingOrOffset : undefined;
        return encode(value, encodingOf(encoding));
      }
      if (typeof value === 'object' && value !== null) {
        if (isArrayBuffer(value)) {
          const byteLength = arrayBufferByteLength(value);
          const offset = encodingOrOffset === undefined ? 0 : +encodingOrOffset || 0;
          if (offset > byteLength || offset < 0) {
            throw nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', '"offset" is outside of buffer bounds');
          }
          const size = length === undefined ? byteLength - offset : +length || 0;
          if (offset + size > byteLength) {
            throw nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', '"length" is outside of buffer bounds');
          }
          return new Buffer(value, offset, size);
        }
        if (isTypedArray(value) || isArray(value)) return new Buffer(value);
        const primitive = typeof value.valueOf === 'function' ? value.valueOf() : undefined;
        if (primitive !== null && primitive !== undefined && primitive !== value
            && (typeof primitive === 'string' || typeof primitive === 'object')) {
          return Buffer.from(primitive, encodingOrOffset, length);
        }
        if (value.length !== undefined) return typeof value.length === 'number' ? new Buffer(value) : new Buffer(0);
        if (value.type === 'Buffer' && isArray(value.data)) return new Buffer(value.data);
      }
      throw invalidArgType('first argument', 'of type string or an instance of Buffer, ArrayBuffer, '
        + 'or Array or an Array-like Object', value);
    }

    static alloc(size, fill, encoding) {
      const buffer = new Buffer(checkSize(size));
      if (fill !== undefined && fill !== 0 && size > 0) buffer.fill(fill, encoding);
      return buffer;
    }

    static allocUnsafe(size) { return new Buffer(checkSize(size)); }
    static allocUnsafeSlow(size) { return new Buffer(checkSize(size)); }
    static isBuffer(value) { return value instanceof Buffer; }

    static isEncoding(encoding) {
      return typeof encoding === 'string' && encoding !== '' && normalizeEncoding(encoding) !== undefined;
    }

    static byteLength(value, encoding) {
      if (typeof value !== 'string') {
        if (isArrayBuffer(value)) return arrayBufferByteLength(value);
        if (isTypedArray(value)) return typedArrayLength(value) * value.BYTES_PER_ELEMENT;
        if (isDataView(value)) return dataViewByteLength(value);
        throw invalidArgType('"string" argument', 'of type string or an instance of Buffer or ArrayBuffer', value);
      }
      const name = normalizeEncoding(encoding) || 'utf8';
      if (name !== 'utf8') return encode(value, name).length;
      let bytes = 0;
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c < 0x80) bytes += 1;
        else if (c < 0x800) bytes += 2;
        else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length
          && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { bytes += 4; i++; }
        else bytes += 3;
      }
      return bytes;
    }

    static concat(list, totalLength) {
      if (!isArray(list)) throw invalidArgType('"list" argument', 'an instance of Array', list);
      if (totalLength === undefined) {
        totalLength = 0;
        for (let i = 0; i < list.length; i++) totalLength += requireUint8Array(list[i], `list[${i}]`).length;
      }
      const result = Buffer.alloc(totalLength);
      let offset = 0;
      for (let i = 0; i < list.length && offset < totalLength; i++) {
        const item = requireUint8Array(list[i], `list[${i}]`);
        const part = item.length > totalLength - offset ? u8Subarray(item, 0, totalLength - offset) : item;
        u8Set(result, part, offset);
        offset += part.length;
      }
      return result;
    }

    static compare(a, b) {
      return compareBytes(requireUint8Array(a, 'buf1'), requireUint8Array(b, 'buf2'));
    }

    toString(encoding, start, end) {
      const length = typedArrayLength(this);
      start = start === undefined || start < 0 ? 0 : floor(start) || 0;
      end = end === undefined || end > length ? length : floor(end) || 0;
      const name = encodingOf(encoding);
      return end <= start ? '' : decode(start === 0 && end === length ? this : u8Subarray(this, start, end), name);
    }

    equals(other) {
      return compareBytes(this, requireUint8Array(other, 'otherBuffer')) === 0;
    }

    compare(target, targetStart, targetEnd, sourceStart, sourceEnd) {
      requireUint8Array(target, 'target');
      const t = u8Subarray(target, targetStart || 0, targetEnd === undefined ? target.length : targetEnd);
      const s = u8Subarray(this, sourceStart || 0, sourceEnd === undefined ? this.length : sourceEnd);
      return compareBytes(s, t);
    }

    copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
      requireUint8Array(target, 'target');
      const count = max(0, min(sourceEnd, this.length) - sourceStart, 0);
      const n = min(count, target.length - targetStart);
      if (n <= 0) return 0;
      u8Set(target, u8Subarray(this, sourceStart, sourceStart + n), targetStart);
      return n;
    }

    // Unlike Uint8Array's, a view sharing this buffer's memory.
    slice(start, end) { return u8Subarray(this, start, end); }

    toJSON() {
      const data = [];
      for (let i = 0; i < this.length; i++) data.push(this[i]);
      return { type: 'Buffer', data };
    }

    write(string, offset, length, encoding) {
      if (typeof offset === 'string') [encoding, offset, length] = [offset, 0, undefined];
      else if (typeof length === 'string') [encoding, length] = [length, undefined];
      offset = offset === undefined ? 0 : offset >>> 0;
      if (offset > this.length) {
        throw nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', '"offset" is outside of buffer bounds');
      }
      const name = encodingOf(encoding);
      const bytes = encode(`${string}`, name);
      let n = min(bytes.length, this.length - offset, length === undefined ? Infinity : length >>> 0);
      // Never write part of a UTF-8 character.
      if (name === 'utf8' && n < bytes.length) while (n > 0 && (bytes[n] & 0xc0) === 0x80) n--;
      u8Set(this, u8Subarray(bytes, 0, n), offset);
      return n;
    }

    fill(value, offset, end, encoding) {
      if (typeof offset === 'string') [encoding, offset, end] = [offset, undefined, undefined];
      else if (typeof end === 'string') [encoding, end] = [end, undefined];
      const length = this.length;
      offset = offset === undefined ? 0 : offset >>> 0;
      end = end === undefined ? length : min(end >>> 0, length);
      let pattern;
      if (typeof value === 'string') pattern = encode(value, encodingOf(encoding));
      else if (isTypedArray(value)) pattern = new Uint8Array(typedArrayBuffer(value), typedArrayByteOffset(value), value.byteLength);
      if (pattern === undefined || pattern.length === 0) {
        u8Fill(this, pattern === undefined ? (typeof value === 'boolean' ? +value : value & 255) : 0, offset, end);
        return this;
      }
      for (let i = offset, j = 0; i < end; i++, j = j + 1 === pattern.length ? 0 : j + 1) this[i] = pattern[j];
      return this;
    }

    indexOf(value, byteOffset, encoding) { return indexOf(this, value, byteOffset, encoding, 1); }
    lastIndexOf(value, byteOffset, encoding) { return indexOf(this, value, byteOffset, encoding, -1); }
    includes(value, byteOffset, encoding) { return indexOf(this, value, byteOffset, encoding, 1) !== -1; }

    [customInspect]() {
      return `<${getConstructorName(this) || 'Buffer'} ${hexBytes(this, 50)}>`;
    }
  }
  Buffer.poolSize = 8192;
  Buffer.prototype.toLocaleString = Buffer.prototype.toString;

  // read*/write* for fixed-size numbers: [name, size, DataView type, little-endian, min, max].
  for (const [name, size, type, littleEndian, lo, hi] of [
    ['UInt8', 1, 'Uint8', false, 0, 0xff], ['Int8', 1, 'Int8', false, -0x80, 0x7f],
    ['UInt16LE', 2, 'Uint16', true, 0, 0xffff], ['UInt16BE', 2, 'Uint16', false, 0, 0xffff],
    ['Int16LE', 2, 'Int16', true, -0x8000, 0x7fff], ['Int16BE', 2, 'Int16', false, -0x8000, 0x7fff],
    ['UInt32LE', 4, 'Uint32', true, 0, 0xffffffff], ['UInt32BE', 4, 'Uint32', false, 0, 0xffffffff],
    ['Int32LE', 4, 'Int32', true, -0x80000000, 0x7fffffff], ['Int32BE', 4, 'Int32', false, -0x80000000, 0x7fffffff],
    ['FloatLE', 4, 'Float32', true], ['FloatBE', 4, 'Float32', false],
    ['DoubleLE', 8, 'Float64', true], ['DoubleBE', 8, 'Float64', false],
    ['BigUInt64LE', 8, 'BigUint64', true, 0n, 2n ** 64n - 1n], ['BigUInt64BE', 8, 'BigUint64', false, 0n, 2n ** 64n - 1n],
    ['BigInt64LE', 8, 'BigInt64', true, -(2n ** 63n), 2n ** 63n - 1n], ['BigInt64BE', 8, 'BigInt64', false, -(2n ** 63n), 2n ** 63n - 1n],
  ]) {
    const get = uncurry(DataView.prototype[`get${type}`]);
    const set = uncurry(DataView.prototype[`set${type}`]);
    const view = (buffer, offset = 0) => {
      if (typeof offset !== 'number') throw invalidArgType('"offset" argument', 'of type number', offset);
      if (offset !== floor(offset) || offset < 0 || offset + size > buffer.length) {
        if (buffer.length < size) {
          throw nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', 'Attempt to access memory outside buffer bounds');
        }
        throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "offset" is out of range. It must be ${
          offset !== floor(offset) ? 'an integer' : `>= 0 and <= ${buffer.length - size}`}. Received ${inspect(offset)}`);
      }
      return new DataView(typedArrayBuffer(buffer), typedArrayByteOffset(buffer) + offset, size);
    };
    const methods = {
      [`read${name}`](offset) { return get(view(this, offset), 0, littleEndian); },
      [`write${name}`](value, offset = 0) {
        if (lo !== undefined && !(value >= lo && value <= hi)) {
          throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "value" is out of range. `
            + `It must be >= ${lo} and <= ${hi}. Received ${inspect(value)}`);
        }
        set(view(this, offset), 0, value, littleEndian);
        return offset + size;
      },
    };
    for (const key of objectKeys(methods)) {
      defineProperty(Buffer.prototype, key, { value: methods[key], writable: true, configurable: true });
      if (key.includes('UInt')) {
        defineProperty(Buffer.prototype, key.replace('UInt', 'Uint'), { value: methods[key], writable: true, configurable: true });
      }
    }
  }

  // ------------------------------------------------------------------- atob, btoa

  function btoa(data) {
    if (arguments.length === 0) throw missingArgs('input');
    data = `${data}`;
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const c = data.charCodeAt(i);
      if (c > 0xff) throw new DOMException('Invalid character', 'InvalidCharacterError');
      bytes[i] = c;
    }
    return base64Encode(bytes, false);
  }

  function atob(data) {
    if (arguments.length === 0) throw missingArgs('input');
    data = `${data}`;
    const bytes = base64Decode(data, false);
    if (bytes === null) {
      const badLength = /^[A-Za-z0-9+/]*$/.test(data.replace(/[\t\n\f\r ]/g, ''));
      throw new DOMException(badLength ? 'The string to be decoded is not correctly encoded.' : 'Invalid character',
        'InvalidCharacterError');
    }
    return decode(new Uint8Array(bytes), 'latin1');
  }

  // -------------------------------------------------------------- structuredClone

  function cloneError(value) {
    let what;
    if (typeof value === 'symbol') what = symbolToString(value);
    else if (typeof value === 'function') what = is(functionToString, value) ? functionToString(value) : '[Function]';
    else what = `#<${getConstructorName(value) || 'Object'}>`;
    return new DOMException(`${what} could not be cloned.`, 'DataCloneError');
  }

  // Own enumerable string-keyed properties of `value`, cloned onto `out`.
  function cloneProperties(value, out, memory) {
    for (const key of objectKeys(value)) {
      defineProperty(out, key, { value: cloneValue(value[key], memory), writable: true, enumerable: true, configurable: true });
    }
    return out;
  }

  function cloneValue(value, memory) {
    if (typeof value === 'symbol' || typeof value === 'function') throw cloneError(value);
    if (typeof value !== 'object' || value === null) return value;
    if (mapHas(memory, value)) return mapGet(memory, value);
    const remember = (out) => {
      mapSet(memory, value, out);
      return out;
    };
    const boxed = boxedType(value);
    if (boxed !== undefined) {
      if (boxed[0] === 'Symbol') throw cloneError(value);
      return remember(Object(boxed[1](value)));
    }
    if (isDate(value)) return remember(new Date(dateGetTime(value)));
    if (isRegExp(value)) return remember(new RegExp(regexpSource(value), regexpFlags(value)));
    if (isArrayBuffer(value)) return remember(arrayBufferSlice(value, 0));
    const typedTag = typedArrayTag(value);
    if (typedTag !== undefined) {
      const buffer = cloneValue(typedArrayBuffer(value), memory);
      return remember(new typedArrays[typedTag](buffer, typedArrayByteOffset(value), typedArrayLength(value)));
    }
    if (isDataView(value)) {
      const buffer = cloneValue(dataViewBuffer(value), memory);
      return remember(new DataView(buffer, dataViewByteOffset(value), dataViewByteLength(value)));
    }
    if (isMap(value)) {
      const out = remember(new Map());
      const entries = [];
      const iterator = mapEntries(value);
      for (let step = mapIterNext(iterator); !step.done; step = mapIterNext(iterator)) entries.push(step.value);
      for (const [k, v] of entries) mapSet(out, cloneValue(k, memory), cloneValue(v, memory));
      return out;
    }
    if (isSet(value)) {
      const out = remember(new Set());
      const items = [];
      const iterator = setValues(value);
      for (let step = setIterNext(iterator); !step.done; step = setIterNext(iterator)) items.push(step.value);
      for (const item of items) setAdd(out, cloneValue(item, memory));
      return out;
    }
    if (isError(value)) {
      const name = dataGet(value, 'name');
      const message = getOwnPropertyDescriptor(value, 'message');
      const Ctor = (typeof name === 'string' && errorTypes[name]) || Error;
      const out = remember(message && 'value' in message ? new Ctor(`${message.value}`) : new Ctor());
      for (const key of ['stack', 'cause']) {
        const desc = getOwnPropertyDescriptor(value, key);
        if (desc && 'value' in desc) {
          defineProperty(out, key, { value: cloneValue(desc.value, memory), writable: true, configurable: true });
        }
      }
      return out;
    }
    if (isArray(value)) return cloneProperties(value, remember(new Array(value.length)), memory);
    for (const prototype of uncloneablePrototypes) if (isPrototypeOf(prototype, value)) throw cloneError(value);
    return cloneProperties(value, remember({}), memory);
  }

  // Platform objects that cannot be cloned (URL and URLSearchParams are added below).
  const uncloneablePrototypes = [Promise.prototype, WeakMap.prototype, WeakSet.prototype];
  if (typeof WeakRef === 'function') uncloneablePrototypes.push(WeakRef.prototype);

  function structuredClone(value, options = undefined) {
    if (arguments.length === 0) throw missingArgs('value');
    return cloneValue(value, new Map());
  }

  // ------------------------------------------------------------- URLSearchParams

  // application/x-www-form-urlencoded serializer output for each byte.
  const formByte = [];
  for (let b = 0; b < 256; b++) {
    const c = fromCharCode(b);
    formByte[b] = b === 0x20 ? '+' : /[A-Za-z0-9*\-._]/.test(c) ? c : `%${hexByte[b].toUpperCase()}`;
  }

  function formEncode(string) {
    if (/^[A-Za-z0-9*\-._]*$/.test(string)) return string;
    const bytes = encodeUtf8(encoder, string);
    let out = '';
    for (let i = 0; i < bytes.length; i++) out += formByte[bytes[i]];
    return out;
  }

  // `+` is a space; %XX sequences are UTF-8 bytes (invalid sequences become U+FFFD).
  function formDecode(string) {
    string = string.replaceAll('+', ' ');
    if (!string.includes('%')) return string;
    const bytes = encodeUtf8(encoder, string);
    const out = new Uint8Array(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const hi = bytes[i] === 0x25 && i + 2 < bytes.length ? hexValue(bytes[i + 1]) : -1;
      const lo = hi >= 0 ? hexValue(bytes[i + 2]) : -1;
      if (lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
      } else {
        out[n++] = bytes[i];
      }
    }
    return decodeUtf8(u8Subarray(out, 0, n));
  }

  function parseQuery(query) {
    const list = [];
    for (const part of query.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      list.push(eq === -1 ? [formDecode(part), ''] : [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
    }
    return list;
  }

  const serializeQuery = (list) => list.map(([name, value]) => `${formEncode(name)}=${formEncode(value)}`).join('&');
  const toUsv = (value) => usv(`${value}`);
  const pairError = () => nodeError(TypeError, 'ERR_INVALID_TUPLE', 'Each query pair must be an iterable [name, value] tuple');

  // Links between a URL and its searchParams, set up by the classes' static blocks.
  let attachParams;
  let replaceParams;
  let setUrlQuery;

  class URLSearchParams {
    #list = [];
    #url = null;

    constructor(init = undefined) {
      if (init === undefined || init === null) return;
      if (typeof init === 'object' || typeof init === 'function') {
        const iterator = init[Symbol.iterator];
        if (iterator !== undefined && iterator !== null) {
          if (typeof iterator !== 'function') throw nodeError(TypeError, 'ERR_ARG_NOT_ITERABLE', 'Query pairs must be iterable');
          for (const pair of init) {
            if ((typeof pair !== 'object' && typeof pair !== 'function') || pair === null
                || typeof pair[Symbol.iterator] !== 'function') throw pairError();
            const items = [...pair];
            if (items.length !== 2) throw pairError();
            this.#list.push([toUsv(items[0]), toUsv(items[1])]);
          }
        } else {
          for (const key of ownKeys(init)) {
            if (isEnumerable(init, key)) this.#list.push([toUsv(key), toUsv(init[key])]);
          }
        }
      } else {
        const query = toUsv(init);
        this.#list = parseQuery(query[0] === '?' ? query.slice(1) : query);
      }
    }

    static {
      attachParams = (params, url) => { params.#url = url; };
      replaceParams = (params, search) => { params.#list = parseQuery(search.slice(1)); };
    }

    #update() {
      if (this.#url !== null) setUrlQuery(this.#url, serializeQuery(this.#list));
    }

    get size() { return this.#list.length; }

    append(name, value) {
      if (arguments.length < 2) throw missingArgs('name', 'value');
      this.#list.push([toUsv(name), toUsv(value)]);
      this.#update();
    }

    delete(name, value = undefined) {
      if (arguments.length < 1) throw missingArgs('name');
      name = toUsv(name);
      if (value !== undefined) value = toUsv(value);
      const list = this.#list;
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i][0] === name && (value === undefined || list[i][1] === value)) list.splice(i, 1);
      }
      this.#update();
    }

    get(name) {
      if (arguments.length < 1) throw missingArgs('name');
      name = toUsv(name);
      const entry = this.#list.find((pair) => pair[0] === name);
      return entry === undefined ? null : entry[1];
    }

    getAll(name) {
      if (arguments.length < 1) throw missingArgs('name');
      name = toUsv(name);
      return this.#list.filter((pair) => pair[0] === name).map((pair) => pair[1]);
    }

    has(name, value = undefined) {
      if (arguments.length < 1) throw missingArgs('name');
      name = toUsv(name);
      if (value !== undefined) value = toUsv(value);
      return this.#list.some((pair) => pair[0] === name && (value === undefined || pair[1] === value));
    }

    set(name, value) {
      if (arguments.length < 2) throw missingArgs('name', 'value');
      name = toUsv(name);
      value = toUsv(value);
      const list = this.#list;
      const first = list.findIndex((pair) => pair[0] === name);
      if (first === -1) {
        list.push([name, value]);
      } else {
        list[first][1] = value;
        for (let i = list.length - 1; i > first; i--) if (list[i][0] === name) list.splice(i, 1);
      }
      this.#update();
    }

    // Stable, by UTF-16 code units of the names.
    sort() {
      this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.#update();
    }

    forEach(callback, thisArg = undefined) {
      if (typeof callback !== 'function') throw invalidArgType('"callback" argument', 'of type function', callback);
      for (let i = 0; i < this.#list.length; i++) {
        const [name, value] = this.#list[i];
        apply(callback, thisArg, [value, name, this]);
      }
    }

    * entries() {
      for (let i = 0; i < this.#list.length; i++) yield [this.#list[i][0], this.#list[i][1]];
    }

    * keys() {
      for (let i = 0; i < this.#list.length; i++) yield this.#list[i][0];
    }

    * values() {
      for (let i = 0; i < this.#list.length; i++) yield this.#list[i][1];
    }

    toString() { return serializeQuery(this.#list); }

    [customInspect](depth, options) {
      if (typeof depth === 'number' && depth < 0) return '[Object]';
      const inner = { ...options, depth: depth === null ? null : depth - 1 };
      const output = this.#list.map(([name, value]) => `${inspect(name, inner)} => ${inspect(value, inner)}`);
      const length = output.reduce((sum, entry) => sum + entry.length + 2, -2);
      if (length > options.breakLength) return `URLSearchParams {\n  ${output.join(',\n  ')} }`;
      return output.length ? `URLSearchParams { ${output.join(', ')} }` : 'URLSearchParams {}';
    }
  }
  defineProperty(URLSearchParams.prototype, Symbol.iterator,
    { value: URLSearchParams.prototype.entries, writable: true, configurable: true });
  defineProperty(URLSearchParams.prototype, Symbol.toStringTag, { value: 'URLSearchParams', configurable: true });

  // ------------------------------------------------------------------------- URL

  const urlComponents = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname',
    'port', 'pathname', 'search', 'hash'];
  let urlRecord;
  let setUrlComponent;

  function parseRecord(url, base) {
    const input = toUsv(url);
    return base === undefined ? urlParse(input, undefined) : urlParse(input, toUsv(base));
  }

  class URL {
    #record;
    #params = null;

    constructor(url, base = undefined) {
      if (arguments.length === 0) throw missingArgs('url');
      const record = parseRecord(url, base);
      if (record === null) {
        const error = nodeError(TypeError, 'ERR_INVALID_URL', 'Invalid URL');
        error.input = `${url}`;
        if (base !== undefined) error.base = `${base}`;
        throw error;
      }
      this.#record = record;
    }

    static {
      urlRecord = (url) => url.#record;
      setUrlComponent = (url, component, value) => {
        url.#record = urlSet(url.#record.href, component, toUsv(value));
        if ((component === 'search' || component === 'href') && url.#params !== null) {
          replaceParams(url.#params, url.#record.search);
        }
      };
      setUrlQuery = (url, query) => {
        url.#record = urlSet(url.#record.href, 'search', query);
      };
    }

    get searchParams() {
      if (this.#params === null) {
        this.#params = new URLSearchParams(this.#record.search);
        attachParams(this.#params, this);
      }
      return this.#params;
    }

    toString() { return this.#record.href; }
    toJSON() { return this.#record.href; }

    static canParse(url, base = undefined) {
      if (arguments.length === 0) throw missingArgs('url');
      return parseRecord(url, base) !== null;
    }

    static parse(url, base = undefined) {
      if (arguments.length === 0) throw missingArgs('url');
      const record = parseRecord(url, base);
      if (record === null) return null;
      const result = new URL('about:blank');
      setUrlComponent(result, 'href', record.href);
      return result;
    }

    [customInspect](depth, options) {
      if (typeof depth === 'number' && depth < 0) return this;
      const obj = {};
      for (const name of urlComponents) if (name !== 'hash') obj[name] = this.#record[name];
      obj.searchParams = this.searchParams;
      obj.hash = this.#record.hash;
      return `URL ${inspect(obj, options)}`;
    }
  }
  // Enumerable attributes and methods, in the WebIDL order (as `for...in` lists them).
  for (const name of ['toString', ...urlComponents.slice(0, -1), 'searchParams', 'hash', 'toJSON']) {
    const desc = getOwnPropertyDescriptor(URL.prototype, name) || {
      get() { return urlRecord(this)[name]; },
      set: name === 'origin' ? undefined : function (value) { setUrlComponent(this, name, value); },
    };
    delete URL.prototype[name];
    defineProperty(URL.prototype, name, { ...desc, enumerable: true, configurable: true });
  }
  defineProperty(URL.prototype, Symbol.toStringTag, { value: 'URL', configurable: true });
  uncloneablePrototypes.push(URL.prototype, URLSearchParams.prototype);

  return freeze({ inspect, format, Buffer, atob, btoa, structuredClone, URL, URLSearchParams, DOMException });
})
