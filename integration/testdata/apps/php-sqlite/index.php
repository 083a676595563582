<?php
header('Content-Type: text/plain; charset=utf-8');
$db = new PDO('sqlite:' . __DIR__ . '/var/app.sqlite');
$db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$words = $db->query('SELECT word FROM words ORDER BY id')->fetchAll(PDO::FETCH_COLUMN);
$upper = array_map('mb_strtoupper', $words);
echo 'hello from php ' . PHP_MAJOR_VERSION . ' with sqlite ' . $db->getAttribute(PDO::ATTR_SERVER_VERSION) . "\n";
echo implode(', ', $upper) . "\n";
