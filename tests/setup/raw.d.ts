// Vite's raw imports (`import text from "./file.yml?raw"`): the file's text.
declare module "*?raw" {
  const text: string;
  export default text;
}
