require 'redcarpet'
require 'webrick'

markdown = Redcarpet::Markdown.new(Redcarpet::Render::HTML, tables: true, autolink: true)
page = markdown.render(File.read(File.join(__dir__, 'README.md')))

server = WEBrick::HTTPServer.new(BindAddress: '127.0.0.1', Port: Integer(ENV.fetch('PORT')),
                                 AccessLog: [], Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN))
server.mount_proc '/' do |_req, res|
  res['Content-Type'] = 'text/html; charset=utf-8'
  res.body = "<!-- redcarpet #{Redcarpet::VERSION} -->\n#{page}"
end
trap('TERM') { server.shutdown }
server.start
