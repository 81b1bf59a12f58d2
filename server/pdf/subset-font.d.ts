// Types for the npm package subset-font (HarfBuzz hb-subset in WebAssembly), which ships none.
declare module 'subset-font' {
  interface SubsetFontOptions {
    targetFormat?: 'sfnt' | 'truetype' | 'woff' | 'woff2';
    preserveNameIds?: number[];
    keepFeatures?: string[];
    noLayoutClosure?: boolean;
    glyphNames?: boolean;
    noHinting?: boolean;
    dropTables?: string[];
    keepAllGlyphs?: boolean;
  }
  function subsetFont(font: Uint8Array, text: string | null | undefined, options?: SubsetFontOptions): Promise<Buffer>;
  export default subsetFont;
}
