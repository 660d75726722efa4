import picomatch from 'picomatch';

export interface PathFilter {
  /** False when the path matches an exclude glob: the entry is dropped without a trace. */
  wanted(relPath: string, isDir: boolean): boolean;
}

// Globs are matched against the '/'-separated path relative to the root, never against the bare
// name, so '*.jpg' only matches at the top level; '**/*.jpg' matches at every level.
export function compileFilter(include: readonly string[] | undefined, exclude: readonly string[] | undefined): PathFilter {
  // dot: hidden names are a separate policy (the `hidden` option), so globs must not ignore them on their own.
  // windows: relPath is always '/'-separated, whatever the platform.
  const options = { dot: true, windows: false };
  const included = include && include.length > 0 ? picomatch([...include], options) : undefined;
  const excluded = exclude && exclude.length > 0 ? picomatch([...exclude], options) : undefined;
  return {
    wanted(relPath, isDir) {
      // A directory also matches in its 'dir/' form, so a gitignore-style 'cache/' pattern excludes it.
      if (excluded && (excluded(relPath) || (isDir && excluded(`${relPath}/`)))) return false;
      // Directories are always descended: a file deep below may still match an include glob.
      return isDir || included === undefined || included(relPath);
    },
  };
}
