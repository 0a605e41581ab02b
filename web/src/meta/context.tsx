import { createContext, useContext } from 'react';
import type { TypeDef } from './fields';

export interface TypesState {
  types: TypeDef[];
  byName: (name: string) => TypeDef | undefined;
  reload: () => Promise<void>;
}

export const TypesContext = createContext<TypesState>({
  types: [],
  byName: () => undefined,
  reload: async () => {},
});

export function useTypes(): TypesState {
  return useContext(TypesContext);
}

/** The value of the record's title field, else its number, else its id's start. */
export function titleOf(type: TypeDef | undefined, record: Record<string, unknown>): string {
  const title = type?.titleField ? record[type.titleField] : undefined;
  if (typeof title === 'string' && title) return title;
  if (typeof record.number === 'string' && record.number) return record.number;
  return String(record.id ?? '').slice(0, 8);
}
