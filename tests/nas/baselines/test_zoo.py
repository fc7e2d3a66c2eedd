"""Reference models: built for small grayscale images by the documented rule, weights adapted, never unpickled."""

import pickle

import pytest
import torch
from torch import nn

from dsdnas.errors import DsdnasError
from dsdnas.nas.baselines.pretrained import adapt_input_conv, load_pretrained, read_state_dict
from dsdnas.nas.baselines.zoo import NAMED, build_reference, frozen_parts
from dsdnas.nas.model.costs import count_macs


@pytest.mark.parametrize("name", NAMED)
def test_every_named_model_runs_on_28x28_grayscale_with_the_runs_classes(name):
    reference = build_reference(name, (1, 28, 28), 7)
    assert reference.model(torch.rand(2, 1, 28, 28)).shape == (2, 7)


def test_the_small_input_rule_keeps_resnet_at_full_resolution():
    reference = build_reference("resnet18", (1, 28, 28), 10)
    conv1 = reference.model.conv1
    assert (conv1.in_channels, conv1.kernel_size, conv1.stride) == (1, (3, 3), (1, 1))
    assert isinstance(reference.model.maxpool, nn.Identity) and reference.classifier == "fc"
    large = build_reference("resnet18", (3, 96, 96), 10)  # 64 px and up: the ImageNet stem stays
    assert large.model.conv1.kernel_size == (7, 7) and isinstance(large.model.maxpool, nn.MaxPool2d)


def test_the_linear_and_mlp_references_are_the_textbook_ones():
    linear = build_reference("linear", (1, 28, 28), 10)
    assert count_macs(linear.model, (1, 28, 28)).macs == 784 * 10 and linear.name == "linear"
    assert sum(p.numel() for p in linear.model.parameters()) == 784 * 10 + 10
    mlp = build_reference("mlp", (1, 28, 28), 10)
    assert mlp.name == "mlp-h64" and count_macs(mlp.model, (1, 28, 28)).macs == 784 * 64 + 64 * 10
    narrow = build_reference("mlp", (3, 8, 8), 4, hidden=16)
    assert narrow.name == "mlp-h16" and sum(p.numel() for p in narrow.model.parameters()) == 192 * 16 + 16 + 16 * 4 + 4
    head = narrow.model.get_submodule(narrow.classifier)
    assert isinstance(head, nn.Linear) and head.out_features == 4
    assert frozen_parts(narrow, "head") == (narrow.model[1],)  # the hidden layer stays, the classifier trains


def test_seed_cnn_is_the_classic_mnist_network():
    model = build_reference("seed-cnn", (1, 28, 28), 10).model
    assert count_macs(model, (1, 28, 28)).macs == 26 * 26 * 32 * 9 + 24 * 24 * 64 * 32 * 9 + 9216 * 128 + 128 * 10
    assert sum(p.numel() for p in model.parameters()) == 1_199_882  # as in PyTorch's examples/mnist


def test_unknown_models_and_models_that_cannot_run_are_one_line():
    with pytest.raises(DsdnasError, match="--model 'resnet19' is not a reference model"):
        build_reference("resnet19", (1, 28, 28), 10)
    with pytest.raises(DsdnasError, match="torchvision:maskrcnn_resnet50_fpn"):
        build_reference("torchvision:maskrcnn_resnet50_fpn", (1, 28, 28), 10)  # not a classifier
    with pytest.raises(DsdnasError, match="torchvision:vgg11 does not run on 28x28 images"):
        build_reference("torchvision:vgg11", (1, 28, 28), 10)


def test_a_saved_torchvision_state_dict_is_adapted_to_one_channel(tmp_path):
    from torchvision.models import mobilenet_v2

    torch.manual_seed(0)
    source = mobilenet_v2(weights=None)  # stands in for pretrained ImageNet weights: 3 channels, 1000 classes
    torch.save(source.state_dict(), tmp_path / "mobilenet_v2.pth")
    reference = build_reference("mobilenet_v2", (1, 28, 28), 10)
    notes = load_pretrained(reference, read_state_dict(str(tmp_path / "mobilenet_v2.pth")), "test")
    stem = reference.model.features[0][0].weight
    assert torch.equal(stem, source.features[0][0].weight.sum(dim=1, keepdim=True))  # timm's adapt_input_conv
    assert torch.equal(reference.model.features[5].conv[1][0].weight, source.features[5].conv[1][0].weight)
    assert any("summed over input channels" in note for note in notes)
    assert any("classifier.1.weight" in note and "left fresh" in note for note in notes)


def test_weights_of_another_model_or_a_pickle_are_refused(tmp_path):
    from torchvision.models import resnet18

    torch.save(resnet18(weights=None).state_dict(), tmp_path / "resnet18.pth")
    with pytest.raises(DsdnasError, match="does not hold mobilenet_v2 weights"):
        load_pretrained(
            build_reference("mobilenet_v2", (1, 28, 28), 10), read_state_dict(str(tmp_path / "resnet18.pth")), "x"
        )

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle executed')",))

    with open(tmp_path / "evil.pth", "wb") as handle:
        pickle.dump({"weight": Boom()}, handle)
    with pytest.raises(DsdnasError, match="not a weights-only state dict"):
        read_state_dict(str(tmp_path / "evil.pth"))


def test_adapt_input_conv_sums_rgb():
    weight = torch.arange(2 * 3 * 1 * 1, dtype=torch.float32).view(2, 3, 1, 1)
    assert adapt_input_conv(weight, 1).flatten().tolist() == [0 + 1 + 2, 3 + 4 + 5]


def test_freezing_keeps_all_but_the_classifier_or_the_last_parts():
    reference = build_reference("resnet18", (1, 28, 28), 10)
    head = frozen_parts(reference, "head")
    assert reference.model.fc not in head and reference.model.layer4 in head
    partial = frozen_parts(reference, "partial:1")
    assert reference.model.layer4 not in partial and reference.model.layer3 in partial
    assert frozen_parts(reference, "none") == ()
