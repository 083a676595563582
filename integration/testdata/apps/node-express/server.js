const express = require('express');

const app = express();
const port = parseInt(process.env.PORT || '3000', 10);

app.get('/', (req, res) => {
  res.type('text/plain').send(`hello from express ${require('express/package.json').version} on node ${process.versions.node.split('.')[0]}\n`);
});

app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
