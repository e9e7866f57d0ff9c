// Does KaTeX accept each formula? stdin: a JSON array of LaTeX strings; stdout: a JSON array of
// null (rendered) or KaTeX's error message. argv[2]: the path of katex.min.js.
const katex = require(process.argv[2]);
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const answers = JSON.parse(input).map((tex) => {
    try {
      katex.renderToString(tex, { displayMode: true, throwOnError: true, strict: 'ignore' });
      return null;
    } catch (err) {
      return String(err.message).slice(0, 300);
    }
  });
  process.stdout.write(JSON.stringify(answers));
});
