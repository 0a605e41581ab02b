import { createContext, useContext } from 'react';
import { i18n } from './index';

/** The UI language, provided once at the top: field displays (hundreds per list) read it
 * from this context instead of each subscribing to i18next. */
export const LangContext = createContext<string>('zh');

export function useLang(): string {
  return useContext(LangContext);
}

/** A message in `lang`, for components that read the language through `useLang`. */
export function message(lang: string, key: string, options?: Record<string, unknown>): string {
  return i18n.t(key, { lng: lang, ...options });
}
