<?php
$db = new PDO('sqlite:' . $argv[1]);
$db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$db->exec('CREATE TABLE IF NOT EXISTS words (id INTEGER PRIMARY KEY, word TEXT NOT NULL)');
$ins = $db->prepare('INSERT INTO words (word) VALUES (?)');
foreach (['grüße', 'ñandú', 'smørrebrød'] as $w) {
    $ins->execute([$w]);
}
echo "created {$argv[1]}\n";
