import type { Argv } from 'yargs';
import { defaultText, type OptionTable } from '../options/option.js';

/**
 * An option table as yargs options. yargs gets no defaults and no environment: an option not on
 * the command line is undefined here, so that the table's own parse can take the VMB_ variable,
 * then the default, and check all three the same way.
 */
export function declareOptions<T>(y: Argv<T>, table: OptionTable): Argv<T> {
  for (const o of table) {
    y.option(o.flag, {
      type: o.reader.type === 'array' ? 'string' : o.reader.type,
      ...(o.reader.type === 'array' ? { array: true } : {}),
      describe: helpText(o.help, o.reader.arg, defaultText(o)),
      group: `${o.group}:`,
      hidden: o.hidden === true,
    });
  }
  return y;
}

/** The README's words for a terminal: a capital, no Markdown quotes, the choices and the default. */
function helpText(help: string, arg: string | undefined, byDefault: string | undefined): string {
  const plain = (text: string) => text.replace(/`/g, '');
  const choices = arg?.includes('|') ? ` (${arg})` : '';
  const fallback = byDefault ? ` [default: ${plain(byDefault)}]` : '';
  return `${help.charAt(0).toUpperCase()}${plain(help.slice(1))}${choices}${fallback}`;
}
