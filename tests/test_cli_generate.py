"""`limner generate` end to end, and Limner.generate: files, numbering, --plan, overwrite,
formats, and one-line errors with exit code 2."""

import io

import pytest
from PIL import Image

from limner.api import Limner, LimnerError
from limner.cli import main
from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render.encode import read_metadata, read_plan


def _plan_file(tmp_path, transparent=False):
    bg = Background(kind="transparent") if transparent else Background(kind="color",
                                                                      color="#fde68a")
    plan = Plan(seed=4, canvas=Canvas(width=640, height=384, background=bg), elements=(
        TextElement(id="t1", content="Weekly Digest", box=(0.05, 0.2, 0.6, 0.8)),
        ObjectElement(id="o1", label="envelope", subject_id="envelope-1",
                      box=(0.65, 0.2, 0.95, 0.8))))
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json(), encoding="utf-8")
    return plan, path


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_generate_from_a_prompt_writes_an_image_with_its_plan(tmp_path, capsys):
    out = tmp_path / "poster.png"
    code, stdout, _ = _run(capsys, "generate", 'A poster that says "OPEN LATE" with a moon',
                           "-o", out, "--size", "1024x1536", "--seed", "3")
    assert code == 0 and out.exists() and "poster.png" in stdout
    with Image.open(out) as im:
        assert im.size == (1024, 1536)
    plan = read_plan(out)
    assert plan is not None and plan.seed == 3
    assert any(t.content == "OPEN LATE" for t in plan.texts)
    assert read_metadata(out)["seed"] == 3


def test_n_images_are_numbered_distinct_and_share_subjects(tmp_path, capsys):
    out = tmp_path / "set.webp"
    code, stdout, _ = _run(capsys, "generate", "three red apples and a blue cup", "-o", out,
                           "-n", "3", "--seed", "10", "--size", "768x768")
    assert code == 0
    files = [tmp_path / f"set-{i}.webp" for i in (1, 2, 3)]
    assert all(f.exists() for f in files)
    plans = [read_plan(f) for f in files]
    assert [p.seed for p in plans] == [10, 11, 12]
    subjects = [sorted({o.subject_id for o in p.objects}) for p in plans]
    assert subjects[0] == subjects[1] == subjects[2] and subjects[0]
    assert len({f.read_bytes() for f in files}) == 3


def test_plan_rerender_is_byte_identical(tmp_path, capsys):
    plan, path = _plan_file(tmp_path)
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    assert _run(capsys, "generate", "--plan", path, "-o", first)[0] == 0
    assert read_plan(first) == plan
    # A limner image carries its Plan: --plan accepts the image itself.
    assert _run(capsys, "generate", "--plan", first, "-o", second)[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_existing_file_is_not_overwritten_without_flag(tmp_path, capsys):
    _plan_obj, path = _plan_file(tmp_path)
    out = tmp_path / "x.png"
    out.write_bytes(b"keep me")
    code, _, err = _run(capsys, "generate", "--plan", path, "-o", out)
    assert code == 2 and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"keep me"
    assert _run(capsys, "generate", "--plan", path, "-o", out, "--overwrite")[0] == 0
    assert read_plan(out) is not None


@pytest.mark.parametrize("args,needle", [
    (["--size", "1000x1000"], "divisible by 16"),
    (["--format", "gif"], "output_format"),
    (["--format", "jpeg", "--compression", "500"], "0 to 100"),
    (["--compression", "50"], "jpeg and webp only"),
    (["-n", "11"], "n must be"),
    (["--quality", "ultra"], "quality"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, needle):
    code, _, err = _run(capsys, "generate", "a red apple", "-o", tmp_path / "o.png", *args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_jpeg_with_a_transparent_plan_is_refused(tmp_path, capsys):
    _plan_obj, path = _plan_file(tmp_path, transparent=True)
    code, _, err = _run(capsys, "generate", "--plan", path, "-o", tmp_path / "o.jpg")
    assert code == 2 and "transparent" in err
    assert _run(capsys, "generate", "--plan", path, "-o", tmp_path / "o.webp")[0] == 0
    with Image.open(tmp_path / "o.webp") as im:
        assert im.convert("RGBA").getpixel((1, 1))[3] == 0


def test_bad_plan_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"canvas": {"width": 1000}}', encoding="utf-8")
    code, _, err = _run(capsys, "generate", "--plan", bad, "-o", tmp_path / "o.png")
    assert code == 2 and "not a valid Plan" in err and len(err.strip().splitlines()) == 1


def test_python_generate_returns_images_plans_seeds_and_bytes():
    plan = Plan(seed=2, canvas=Canvas(width=512, height=512), elements=(
        TextElement(id="t1", content="Hi", box=(0.1, 0.1, 0.9, 0.4)),))
    seen = []
    res = Limner().generate(plan=plan, n=2, output_format="jpeg", output_compression=80,
                            on_image=lambda i, img: seen.append(i))
    assert len(res) == 2 and seen == [0, 1] and res.renderer == "draft"
    assert [g.seed for g in res.images] == [2, 3]
    for g in res.images:
        with Image.open(io.BytesIO(g.data)) as im:
            assert im.format == "JPEG" and im.size == (512, 512)
        assert g.format == "jpeg" and read_plan(g.data) == g.plan
    with pytest.raises(LimnerError) as e:
        Limner().generate(plan=plan, output_format="tiff")
    assert e.value.param == "output_format"


def test_font_override_draws_with_that_file_or_names_missing_glyphs(tmp_path, capsys):
    from render.fonts import font_for

    latin = font_for("A", "Latn", "regular").path
    _plan_obj, path = _plan_file(tmp_path)
    default, custom = tmp_path / "d.png", tmp_path / "c.png"
    assert _run(capsys, "generate", "--plan", path, "-o", default)[0] == 0
    assert _run(capsys, "generate", "--plan", path, "-o", custom, "--font", latin)[0] == 0
    assert default.read_bytes() != custom.read_bytes()
    cjk = Plan(canvas=Canvas(width=512, height=256), elements=(
        TextElement(id="t1", content="欢迎光临", script="Hans", box=(0.1, 0.1, 0.9, 0.9)),))
    cjk_path = tmp_path / "cjk.json"
    cjk_path.write_text(cjk.to_json(), encoding="utf-8")
    code, _, err = _run(capsys, "generate", "--plan", cjk_path, "-o", tmp_path / "x.png",
                        "--font", latin)
    assert code == 2 and "no glyph" in err and len(err.strip().splitlines()) == 1
