/** The CLI's version (`dicomnet --version`), kept with package.json's. */
export const VERSION = '0.1.0';
