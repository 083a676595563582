package pin

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
)

// mapFS is a stage filesystem as a map of file path to content.
type mapFS map[string]string

func (m mapFS) ReadFile(_ context.Context, p string) ([]byte, bool, error) {
	v, ok := m[p]
	return []byte(v), ok, nil
}

func (m mapFS) ReadDir(_ context.Context, dir string) ([]string, error) {
	var out []string
	for p := range m {
		if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
			first, _, _ := strings.Cut(rest, "/")
			if !slices.Contains(out, first) {
				out = append(out, first)
			}
		}
	}
	return out, nil
}

func TestLanguageVersions(t *testing.T) {
	tests := []struct {
		name    string
		fs      mapFS
		se      stageEnv
		manager string
		names   []string
		want    map[string]string
		wantErr string
	}{
		{
			name:    "npm: WORKDIR and global, scoped",
			manager: "npm", names: []string{"express", "@types/node", "left-pad"},
			se: stageEnv{workdir: "/app"},
			fs: mapFS{
				"/app/node_modules/express/package.json":               `{"name":"express","version":"4.21.2"}`,
				"/usr/local/lib/node_modules/@types/node/package.json": `{"name":"@types/node","version":"22.10.1"}`,
				"/usr/local/lib/node_modules/not-asked/package.json":   `{"name":"not-asked","version":"1.0.0"}`,
				"/usr/local/lib/node_modules/express/lib/package.json": `{"name":"inner","version":"0"}`,
			},
			want: map[string]string{"express": "4.21.2", "@types/node": "22.10.1"},
		},
		{
			name:    "npm: two versions cannot be one pin",
			manager: "npm", names: []string{"express"},
			se: stageEnv{workdir: "/app"},
			fs: mapFS{
				"/app/node_modules/express/package.json":           `{"name":"express","version":"4.21.2"}`,
				"/usr/local/lib/node_modules/express/package.json": `{"name":"express","version":"5.0.0"}`,
			},
			wantErr: "npm package express is installed at 4.21.2 and 5.0.0",
		},
		{
			name:    "pip: official image, Debian, venv, normalized names, egg-info",
			manager: "pip", names: []string{"Flask", "jinja2", "zope.interface", "legacy"},
			se: stageEnv{env: map[string]string{"VIRTUAL_ENV": "/opt/venv"}},
			fs: mapFS{
				"/usr/local/lib/python3.12/site-packages/flask-3.0.3.dist-info/METADATA":      "",
				"/opt/venv/lib/python3.11/site-packages/Jinja2-3.1.4.dist-info/METADATA":      "",
				"/usr/lib/python3/dist-packages/zope_interface-7.1.1.dist-info/METADATA":      "",
				"/usr/lib/python3/dist-packages/legacy-0.9-py3.11.egg-info/PKG-INFO":          "",
				"/usr/local/lib/python3.12/site-packages/flask_cors-5.0.0.dist-info/METADATA": "",
			},
			want: map[string]string{"Flask": "3.0.3", "jinja2": "3.1.4", "zope.interface": "7.1.1", "legacy": "0.9"},
		},
		{
			name:    "pip: a venv activated only through PATH",
			manager: "pip", names: []string{"hkgreet"},
			se: stageEnv{env: map[string]string{"PATH": "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin"}},
			fs: mapFS{
				"/opt/venv/lib/python3.11/site-packages/hkgreet-1.0.0.dist-info/METADATA": "",
			},
			want: map[string]string{"hkgreet": "1.0.0"},
		},
		{
			name:    "gem: GEM_HOME, Debian and platform gems; a prefix is not a match",
			manager: "gem", names: []string{"sinatra", "nokogiri", "rack"},
			se: stageEnv{env: map[string]string{"GEM_HOME": "/usr/local/bundle"}},
			fs: mapFS{
				"/usr/local/bundle/specifications/sinatra-4.1.1.gemspec":                  "",
				"/usr/local/bundle/specifications/sinatra-contrib-4.1.1.gemspec":          "",
				"/var/lib/gems/3.1.0/specifications/nokogiri-1.16.7-x86_64-linux.gemspec": "",
				"/var/lib/gems/3.1.0/specifications/rack-protection-4.1.1.gemspec":        "",
			},
			want: map[string]string{"sinatra": "4.1.1", "nokogiri": "1.16.7"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := languageVersions(context.Background(), tt.fs, tt.se, tt.manager, tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
