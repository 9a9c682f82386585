// Every text the pages show, in English and Simplified Chinese, one file a language under
// i18n/. t(key) answers in the chosen language (kept in localStorage), falling back to
// English, then to the key itself.
import { EN } from './i18n/en.js';
import { ZH_CN } from './i18n/zh-CN.js';

export const STRINGS = {
  en: EN,
  'zh-CN': ZH_CN,
};

const KEY = 'gatehouse.lang';
let lang = (() => {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && STRINGS[saved]) return saved;
  } catch {
    /* storage disabled */
  }
  return 'en';
})();

export const getLang = () => lang;
export function setLang(l) {
  if (!STRINGS[l]) return;
  lang = l;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    /* storage disabled */
  }
}

/** The text of key in the current language; {name} placeholders filled from vars. */
export function t(key, vars) {
  let s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}
