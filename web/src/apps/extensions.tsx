// What an app adds to the record page beyond the metadata-driven form: action buttons and
// tabs for some of its types (procurement: ordering a requisition, a supplier's scorecard).
// Each extension decides from the type and the record whether it applies, so the record
// page stays generic and an app's screens live with the app.
import type { ReactNode } from 'react';
import type { RecordJson } from '../api/client';
import type { TypeDef } from '../meta/fields';
import { procurement } from './procurement';

export interface RecordContext {
  def: TypeDef;
  record: RecordJson;
  /** The types the user may read, by name (for permissions of related types). */
  byName: (name: string) => TypeDef | undefined;
}

export interface ExtensionTab {
  key: string;
  label: ReactNode;
  children: ReactNode;
}

export interface RecordExtension {
  actions?: (ctx: RecordContext) => ReactNode[];
  tabs?: (ctx: RecordContext) => ExtensionTab[];
}

const EXTENSIONS: RecordExtension[] = [procurement];

export function extensionActions(ctx: RecordContext): ReactNode[] {
  return EXTENSIONS.flatMap((e) => e.actions?.(ctx) ?? []);
}

export function extensionTabs(ctx: RecordContext): ExtensionTab[] {
  return EXTENSIONS.flatMap((e) => e.tabs?.(ctx) ?? []);
}
