// app/ and renderer/ map `electron` to this file (tsconfig `paths`): the core also runs in the CLI
// and browser mode, and the page only sees the preload's bridge, so an import of Electron there
// fails to compile with "File '.../electron-is-imported-only-in-main.d.ts' is not a module" (TS2306).
