use Mojolicious::Lite -signatures;

get '/' => sub ($c) {
  $c->render(json => {hello => 'from mojolicious', major => (split /\./, $Mojolicious::VERSION)[0] >= 9 ? '9+' : 'old'});
};

get '/greet/:name' => sub ($c) {
  $c->render(text => 'hello ' . $c->param('name') . "\n");
};

app->start;
