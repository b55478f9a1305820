// i18n.js — the console's language: Chinese or English, chosen from
// navigator.language (zh* → Chinese) unless the user picked one (kept in
// localStorage), and t() to look up a string of js/lang/<lang>.js.
import zh from './lang/zh.js';
import en from './lang/en.js';

const TABLES = { zh, en };
const STORE_KEY = 'haas-emu.lang';
let lang = detect();

function stored() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null; // storage disabled: fall back to the browser's language
  }
}

function detect() {
  const pick = stored();
  if (pick && TABLES[pick]) return pick;
  return /^zh\b/i.test(navigator.language || '') ? 'zh' : 'en';
}

export function getLang() {
  return lang;
}

// The BCP 47 tag for <html lang> and for dates and numbers.
export function locale() {
  return lang === 'zh' ? 'zh-CN' : 'en-US';
}

export function setLang(next) {
  if (!TABLES[next]) return;
  lang = next;
  try {
    localStorage.setItem(STORE_KEY, next);
  } catch {
    /* not remembered, still switched */
  }
  document.documentElement.lang = locale();
}

export function has(key) {
  return key in TABLES[lang] || key in TABLES.en;
}

// t('devices.added', {n: 3}) → "已添加 3 台设备"; {name} placeholders are filled from vars.
export function t(key, vars) {
  let s = TABLES[lang][key] ?? TABLES.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return s;
}
