/**
 * Breaks text into rows of at most `width` characters, at spaces where it
 * can, so the message view knows exactly how many rows each line takes.
 */
export function wrapText(text: string, width: number): string[] {
  const max = Math.max(1, width);
  const rows: string[] = [];
  for (const paragraph of text.split('\n')) {
    let rest = paragraph;
    while (rest.length > max) {
      let cut = rest.lastIndexOf(' ', max);
      if (cut <= 0) cut = max;
      rows.push(rest.slice(0, cut));
      rest = rest.slice(cut).replace(/^ /, '');
    }
    rows.push(rest);
  }
  return rows;
}
