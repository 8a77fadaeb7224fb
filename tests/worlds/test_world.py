import pytest

from subroute.errors import ConfigError
from subroute.worlds import WorldConfig, build_world
from subroute.worlds.names import BLOCKLIST


def test_same_seed_same_world_other_seed_other_world(world):
    again = build_world(WorldConfig(seed=11, n_people=400))
    assert [(e.id, e.name) for e in again.entities.values()] == [(e.id, e.name) for e in world.entities.values()]
    assert list(again.facts.values()) == list(world.facts.values())
    other = build_world(WorldConfig(seed=12, n_people=400))
    assert {e.name for e in other.entities.values()} != {e.name for e in world.entities.values()}


def test_names_unique_pronounceable_not_famous(world):
    names = [e.name for e in world.entities.values()]
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        for word in n.replace("-", " ").split():
            assert word.lower() not in BLOCKLIST
            assert not any(c * 3 in word.lower() for c in "abcdefghijklmnopqrstuvwxyz")


def test_founder_born_before_founding(world):
    for o in world.by_kind["org"]:
        founder = world.follow(o, "founder")[0]
        assert world.follow(o, "founded_year")[0] >= world.follow(founder, "born_year")[0] + 20
        for acq in world.follow(o, "acquired_by"):
            assert world.follow(acq, "founded_year")[0] < world.follow(o, "founded_year")[0]
            assert world.follow(o, "acquired_year")[0] > world.follow(o, "founded_year")[0]


def test_no_one_is_their_own_ancestor(world):
    def parents(p):
        return [str(x) for r in ("mother", "father") for x in world.follow(p, r)]

    for p in world.by_kind["person"]:
        seen, todo = set(), parents(p)
        while todo:
            a = todo.pop()
            assert a != p
            assert world.follow(a, "born_year")[0] <= world.follow(p, "born_year")[0] - 18
            if a not in seen:
                seen.add(a)
                todo.extend(parents(a))


def test_families_and_dates_are_plausible(world):
    for p in world.by_kind["person"]:
        for m in world.follow(p, "mother"):
            assert world.entities[m].attrs["gender"] == "f"
        for s in world.follow(p, "spouse"):
            assert s not in world.follow(p, "sibling")
        for mentor in world.follow(p, "mentor"):
            assert world.follow(mentor, "born_year")[0] < world.follow(p, "born_year")[0]
    for w in world.by_kind["work"]:
        creator = world.follow(w, "creator")[0]
        assert world.follow(w, "work_year")[0] >= world.follow(creator, "born_year")[0] + 18
    for e in world.by_kind["event"]:
        year = world.follow(e, "event_year")[0]
        assert all(year - world.follow(p, "born_year")[0] >= 16 for p in world.follow(e, "participant"))
    for n in world.by_kind["country"]:
        assert world.follow(world.follow(n, "capital")[0], "country") == [n]


def test_inverse_index_reads_the_same_facts(world):
    o = world.by_kind["org"][0]
    founder = world.follow(o, "founder")[0]
    assert o in world.follow(founder, "founded")
    assert world.fact_id(founder, "founded", o) == world.fact_id(o, "founder", founder)


@pytest.mark.parametrize("kw, needle", [
    ({"n_people": 0}, "n_people"), ({"n_cities": 0}, "n_cities"),
    ({"p_mentor": 1.5}, "p_mentor"), ({"n_countries": 9, "n_cities": 4}, "n_countries"),
])
def test_bad_world_knobs_are_refused(kw, needle):
    with pytest.raises(ConfigError, match=needle):
        build_world(WorldConfig(**kw))
