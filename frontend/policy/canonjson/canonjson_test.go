package canonjson

import "testing"

func TestMarshal(t *testing.T) {
	type inner struct {
		Z string `json:"z"`
		A string `json:"a"`
	}
	v := struct {
		Zeta  int               `json:"zeta"`
		Alpha inner             `json:"alpha"`
		Big   int64             `json:"big"`
		Map   map[string]string `json:"map"`
		HTML  string            `json:"html"`
		List  []string          `json:"list"`
		Nil   []string          `json:"nil"`
	}{
		Zeta: 1, Alpha: inner{Z: "z", A: "a"}, Big: 9007199254740993,
		Map: map[string]string{"b": "2", "a": "1"}, HTML: "<a&b>", List: []string{}, Nil: nil,
	}
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"alpha":{"a":"a","z":"z"},"big":9007199254740993,"html":"<a&b>","list":[],"map":{"a":"1","b":"2"},"nil":null,"zeta":1}`
	if string(got) != want {
		t.Errorf("Marshal() =\n%s\nwant\n%s", got, want)
	}
	if _, err := Marshal(func() {}); err == nil {
		t.Error("Marshal(func) = nil error")
	}
}
