from inikit import Config, dump, dumps, load, loads


def test_round_trip_through_a_file(tmp_path):
    cfg = Config()
    web = cfg.add_section("web")
    web["root"] = "/srv/www"
    web["index"] = "index.html\nindex.htm"
    path = tmp_path / "site.ini"
    dump(cfg, path)
    again = load(path)
    assert again == cfg
    assert again["web"]["index"] == "index.html\nindex.htm"


def test_dumps_format():
    cfg = loads("[a]\nx=1\n[b]\ny = 2\n")
    assert dumps(cfg) == "[a]\nx = 1\n\n[b]\ny = 2\n"


def test_load_utf8_file(tmp_path):
    path = tmp_path / "people.ini"
    path.write_bytes("[owner]\nname = Zoë Ångström\n".encode("utf-8"))
    assert load(path)["owner"]["name"] == "Zoë Ångström"
