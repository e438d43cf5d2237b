declare module 'virtual:authpipe-completions' {
  export interface DtsItem { label: string; type: string; detail?: string; info?: string; ref?: string }
  const data: { globals: DtsItem[]; types: Record<string, DtsItem[] | string>; roots: Record<string, string> };
  export default data;
}
