import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en';
import zh from './zh';

export type Lang = 'zh' | 'en';
export const LANGS: Lang[] = ['zh', 'en'];
const STORAGE_KEY = 'weft.lang';

/** The remembered choice, else the browser's first language we speak, else Chinese. */
export function detectLang(stored: string | null, browser: readonly string[]): Lang {
  if (stored === 'zh' || stored === 'en') return stored;
  for (const tag of browser) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'zh' || base === 'en') return base;
  }
  return 'zh';
}

function stored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function initI18n(): typeof i18n {
  const lng = detectLang(stored(), typeof navigator === 'undefined' ? [] : navigator.languages ?? []);
  void i18n.use(initReactI18next).init({
    resources: { en: { translation: en }, zh: { translation: zh } },
    lng,
    fallbackLng: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  setDocumentLang(lng);
  return i18n;
}

function setDocumentLang(lang: Lang) {
  if (typeof document !== 'undefined') document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

export function changeLang(lang: Lang) {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  setDocumentLang(lang);
  void i18n.changeLanguage(lang);
}

/** Intl's locale tag for a language. */
export function localeOf(lang: string): string {
  return lang === 'en' ? 'en-US' : 'zh-CN';
}

export { i18n };
