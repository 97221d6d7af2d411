/** Joins class names, skipping empty ones: the widget's own class first, the app's after it. */
export function cx(...names: Array<string | false | null | undefined>): string {
  return names.filter(Boolean).join(' ');
}
