"""The extractor on tiny data: tokenizer alignment, the grammar (cannot emit an invalid record, ends before the
limit), the shared-prefix forward pass equal to the plain one, padding-invariant rows, free decoding's failures
counted, and training that lowers the loss and resumes to the same weights."""

from __future__ import annotations

import copy
import json
import random

import jsonschema
import pytest
import torch

from pipelines.extract.decode import generate
from pipelines.extract.grammar import INVALID, Grammar, check_alignment, read_answer
from pipelines.extract.model import Batch, left_pad
from pipelines.extract.records import json_schema
from pipelines.extract.sequences import examples
from pipelines.extract.tokenizer import train_tokenizer
from pipelines.extract.trainer import FitSettings, Phase, fit
from pipelines.extract.variants import add_lora
from pipelines.schema import FIELDS, vocabulary

VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def test_the_tokenizer_decodes_exactly_and_keeps_answers_aligned_with_the_grammar(tiny_world):
    model = tiny_world["model"]
    targets = [r["messages"][2]["content"] for r in tiny_world["records"]]
    check_alignment(model.encode, targets)
    for text in [*targets, 'Acme Café "Classic" tee, 3/4 sleeves\n', "{}"]:
        assert model.decode(model.encode(text)) == text
    # frequent units are one token each: a key with its colon, a frequent value, a confidence
    for unit in ('"sleeve_length":', '"unknown"', "0.9", ","):
        assert len(model.encode(unit)) == 1, unit


def test_a_tokenizer_merging_across_punctuation_is_refused():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    target = json.dumps({**dict.fromkeys(FIELDS, "unknown"), "confidence": dict.fromkeys(FIELDS, 0.1)})
    target = target.replace(" ", "")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tokenizer.train_from_iterator([target] * 20, trainers.BpeTrainer(vocab_size=400, show_progress=False))
    with pytest.raises(ValueError, match="across its grammar slots"):
        check_alignment(lambda s: tokenizer.encode(s).ids, [target])


def test_every_path_through_the_grammar_is_a_valid_record_ending_in_eos(tiny_world):
    model = tiny_world["model"]
    grammar = Grammar.build(model.encode, model.eos_id)
    rng = random.Random(0)
    for _ in range(200):
        state, tokens = grammar.start(), []
        while not state.done:
            token = rng.choice(grammar.allowed(state))
            grammar.advance(state, token)
            tokens.append(token)
        assert tokens[-1] == model.eos_id and len(tokens) <= grammar.longest
        answer = read_answer(model.decode(tokens[:-1]), False, VALIDATOR)
        assert answer.valid_json and answer.schema_pass, answer.text
    with pytest.raises(KeyError):
        grammar.advance(grammar.start(), model.encode("hello")[0])  # a token the grammar does not allow


def test_constrained_decoding_of_an_untrained_model_is_valid_and_stops_on_its_own(tiny_world):
    model, world = tiny_world["model"], tiny_world
    chosen = examples(world["files"]["eval"], model.encode, model.image_tokens, with_answer=False)
    grammar = Grammar.build(model.encode, model.eos_id)
    common = {"images": world["images"], "row_of": world["row_of"], "batch_size": 3}
    out = generate(model, world["prefix"], chosen, max_new_tokens=grammar.longest, grammar=grammar, **common)
    assert all(not g.truncated for g in out)
    assert all(read_answer(g.text, g.truncated, VALIDATOR).schema_pass for g in out)
    # free decoding of the same untrained model: it runs to the limit, and the failure is counted, not raised
    free = generate(model, world["prefix"], chosen, max_new_tokens=12, grammar=None, **common)
    assert all(g.truncated and g.tokens == 12 for g in free)
    answers = [read_answer(g.text, g.truncated, VALIDATOR) for g in free]
    assert not any(a.valid_json for a in answers) and answers[0].values["color"] == INVALID


def test_the_shared_prefix_cache_gives_the_plain_forward_pass_and_rows_ignore_their_padding(tiny_world):
    model, world = tiny_world["model"], tiny_world
    model.eval()
    chosen = examples(world["files"]["train"][:3], model.encode, model.image_tokens, with_answer=True)
    rows = torch.tensor([world["row_of"][e.item_id] for e in chosen])
    ids, mask = left_pad([e.body for e in chosen], model.pad_id)
    with torch.no_grad():
        cached, _ = model.hidden_states(world["prefix"], Batch(ids, mask, world["images"][rows]))
        for i, example in enumerate(chosen):
            # the same row alone, its prefix written out in full, no padding, no cache
            body = torch.tensor([example.body])
            embeds = model.embed(Batch(body, torch.ones_like(body), world["images"][rows[i : i + 1]]))
            prefix_embeds = model.lm.get_input_embeddings()(torch.tensor([world["prefix"]]))
            plain = model.lm.get_decoder()(inputs_embeds=torch.cat([prefix_embeds, embeds], dim=1)).last_hidden_state
            width = len(example.body)
            torch.testing.assert_close(cached[i, -width:], plain[0, -width:], rtol=1e-4, atol=1e-4)


def test_free_text_and_edge_json_are_read_never_raised():
    good = {name: vocabulary()[name][0] for name in FIELDS} | {"confidence": dict.fromkeys(FIELDS, 0.5)}
    text = json.dumps(good)
    assert read_answer(text, False, VALIDATOR).schema_pass
    cases = {
        "not json": (False, False),
        "[1, 2]": (True, False),
        json.dumps(good | {"color": "turquoise"}): (True, False),
        json.dumps(good | {"confidence": dict.fromkeys(FIELDS, True)}): (True, False),
        json.dumps({k: v for k, v in good.items() if k != "fit"}): (True, False),
    }
    for text, (valid, passes) in cases.items():
        answer = read_answer(text, False, VALIDATOR)
        assert (answer.valid_json, answer.schema_pass) == (valid, passes), text
    odd = read_answer(json.dumps(good | {"color": "turquoise", "confidence": {"fit": 2}}), False, VALIDATOR)
    assert odd.values["color"] == "turquoise" and odd.confidence["fit"] is None and odd.values["fit"] == good["fit"]


def _phase(world, model):
    encode = model.encode
    train = examples(world["files"]["train"], encode, model.image_tokens, with_answer=True)
    val = examples(world["files"]["val"], encode, model.image_tokens, with_answer=True)
    return Phase("sft", world["prefix"], train, val, world["images"], world["row_of"])


def test_training_lowers_the_loss_and_a_resumed_run_reaches_the_same_weights(tiny_world, tmp_path):
    settings = FitSettings(epochs=3, patience=3, batch_size=8, lr=1e-2, weight_decay=0.0, grad_clip=1.0, seed=0)
    straight = copy.deepcopy(tiny_world["model"])
    result = fit(straight, list(straight.parameters()), _phase(tiny_world, straight), settings,
                 tmp_path / "a.pt", tmp_path / "live_a")  # fmt: skip
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert (tmp_path / "live_a" / "plots" / "metrics" / "val_loss.tsv").is_file()

    resumed = copy.deepcopy(tiny_world["model"])
    short = FitSettings(**{**vars(settings), "epochs": 1})
    fit(resumed, list(resumed.parameters()), _phase(tiny_world, resumed), short, tmp_path / "b.pt", tmp_path / "lb")
    again = copy.deepcopy(tiny_world["model"])  # a new process: fresh weights, the checkpoint holds the state
    fit(again, list(again.parameters()), _phase(tiny_world, again), settings, tmp_path / "b.pt", tmp_path / "lb")
    for key, value in straight.state_dict().items():
        assert torch.equal(value, again.state_dict()[key]), key


def test_lora_trains_only_the_adapters_and_the_projector(tiny_world, tmp_path):
    model = copy.deepcopy(tiny_world["model"])
    frozen = {k: v.clone() for k, v in model.lm.state_dict().items()}
    add_lora(model, r=4, alpha=8, dropout=0.0, new_tokens=[5, 6])
    trainable = [p for p in model.parameters() if p.requires_grad]
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n or "trainable_tokens" in n or n.startswith("projector.") for n in names)
    settings = FitSettings(epochs=1, patience=1, batch_size=8, lr=1e-2, weight_decay=0.0, grad_clip=1.0, seed=0)
    fit(model, trainable, _phase(tiny_world, model), settings, tmp_path / "c.pt", tmp_path / "lc")
    after = {k.replace("base_layer.", ""): v for k, v in model.lm.state_dict().items() if "lora_" not in k}
    tokens = model.lm.get_input_embeddings()(torch.arange(8))
    for key, value in frozen.items():
        if "embed_tokens" in key or "lm_head" in key:  # tied; only the new tokens' rows moved
            assert torch.equal(value[:5], tokens[:5].detach()) and not torch.equal(value[5:7], tokens[5:7].detach())
        else:
            assert torch.equal(value, after[key]), key


def test_train_tokenizer_holds_the_special_tokens():
    tokenizer = train_tokenizer(["a tee", "a shirt"], 300)
    assert tokenizer.token_to_id("<|image|>") is not None and tokenizer.token_to_id("<|eos|>") == 1
