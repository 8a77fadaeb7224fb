import pytest

from subroute.worlds import Corpus, QuestionConfig, WorldConfig, build_world, generate_questions


@pytest.fixture(scope="session")
def world():
    return build_world(WorldConfig(seed=11, n_people=400))


@pytest.fixture(scope="session")
def corpus(world):
    return Corpus(world)


@pytest.fixture(scope="session")
def questions(world, corpus):
    return generate_questions(world, QuestionConfig(n=120, min_hops=1, max_hops=5), corpus=corpus)
