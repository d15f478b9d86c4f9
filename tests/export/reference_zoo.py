"""Reference modules with the architectures of facebookresearch/mixup-cifar10's ``models/``.

Written for these tests (not copied) in the style of ordinary CIFAR model code: layers built in
``__init__``, ``F.relu``/``F.avg_pool2d`` in ``forward``, ``out.view(out.size(0), -1)``, an empty
``nn.Sequential()`` as the identity shortcut, ``out += shortcut``, one pooling or ReLU module
called twice. The attribute names follow the reference code, so the state-dict keys are the
ones a checkpoint trained with it holds. This file is also imported by ``main.py import``
tests, so it must stay traceable by torch.fx.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _conv3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class PreActBlock(nn.Module):
    """Pre-activation basic block; ``identity_adds_x`` selects the Identity-Mappings form."""

    expansion = 1

    def __init__(self, cin, planes, stride=1, identity_adds_x=False):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = _conv3(cin, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3(planes, planes)
        self.projection = stride != 1 or cin != planes
        self.identity_adds_x = identity_adds_x
        self.shortcut = nn.Sequential()
        if self.projection:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride=stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        if self.identity_adds_x and not self.projection:
            skip = x
        else:
            skip = self.shortcut(out)  # the mixup-cifar10 form: relu(bn1(x)) even when identity
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        out += skip
        return out


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1):
        super().__init__()
        self.conv1 = _conv3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1):
        super().__init__()
        out_planes = 4 * planes
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != out_planes:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, out_planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    def __init__(self, block, counts, num_classes=10, **block_options):
        super().__init__()
        self.cin = 64
        self.conv1 = _conv3(3, 64)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._stage(block, 64, counts[0], 1, block_options)
        self.layer2 = self._stage(block, 128, counts[1], 2, block_options)
        self.layer3 = self._stage(block, 256, counts[2], 2, block_options)
        self.layer4 = self._stage(block, 512, counts[3], 2, block_options)
        self.linear = nn.Linear(512 * block.expansion, num_classes)

    def _stage(self, block, planes, count, stride, options):
        layers = []
        for s in [stride] + [1] * (count - 1):
            layers.append(block(self.cin, planes, s, **options))
            self.cin = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x, lin=0, lout=5):
        out = x
        if lin < 1 and lout > -1:
            out = F.relu(self.bn1(self.conv1(out)))
        if lin < 2 and lout > 0:
            out = self.layer1(out)
        if lin < 3 and lout > 1:
            out = self.layer2(out)
        if lin < 4 and lout > 2:
            out = self.layer3(out)
        if lin < 5 and lout > 3:
            out = self.layer4(out)
        if lout > 4:
            out = F.avg_pool2d(out, 4)
            out = out.view(out.size(0), -1)
            out = self.linear(out)
        return out


def ResNet18():
    return ResNet(PreActBlock, [2, 2, 2, 2])


def PreActResNet18Identity():
    return ResNet(PreActBlock, [2, 2, 2, 2], identity_adds_x=True)


def ResNet34():
    return ResNet(BasicBlock, [3, 4, 6, 3])


def ResNet50():
    return ResNet(Bottleneck, [3, 4, 6, 3])


def ResNet101():
    return ResNet(Bottleneck, [3, 4, 23, 3])


def ResNet152():
    return ResNet(Bottleneck, [3, 8, 36, 3])


class ResNeXtBlock(nn.Module):
    def __init__(self, cin, cardinality, width, stride):
        super().__init__()
        group_width = cardinality * width
        self.conv1 = nn.Conv2d(cin, group_width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(group_width)
        self.conv2 = nn.Conv2d(group_width, group_width, 3, stride=stride, padding=1,
                               groups=cardinality, bias=False)
        self.bn2 = nn.BatchNorm2d(group_width)
        self.conv3 = nn.Conv2d(group_width, 2 * group_width, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(2 * group_width)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != 2 * group_width:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, 2 * group_width, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(2 * group_width))

    forward = Bottleneck.forward  # the same three convolutions and shortcut, grouped in the middle


class ResNeXt29(nn.Module):
    def __init__(self, cardinality, width, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin, stages = 64, []
        for stride in (1, 2, 2):
            blocks = []
            for s in (stride, 1, 1):
                blocks.append(ResNeXtBlock(cin, cardinality, width, s))
                cin = 2 * cardinality * width
            stages.append(nn.Sequential(*blocks))
            width *= 2
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(cin, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, 8)
        return self.linear(out.view(out.size(0), -1))


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([out, x], 1)


class Transition(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNet(nn.Module):
    def __init__(self, counts, growth, num_classes=10):
        super().__init__()
        channels = 2 * growth
        self.conv1 = nn.Conv2d(3, channels, 3, padding=1, bias=False)
        for i, count in enumerate(counts, start=1):
            layers = []
            for _ in range(count):
                layers.append(DenseLayer(channels, growth))
                channels += growth
            setattr(self, f"dense{i}", nn.Sequential(*layers))
            if i < len(counts):
                setattr(self, f"trans{i}", Transition(channels, math.floor(channels * 0.5)))
                channels = math.floor(channels * 0.5)
        self.bn = nn.BatchNorm2d(channels)
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x):
        out = self.conv1(x)
        out = self.trans1(self.dense1(out))
        out = self.trans2(self.dense2(out))
        out = self.trans3(self.dense3(out))
        out = self.dense4(out)
        out = F.avg_pool2d(F.relu(self.bn(out)), 4)
        out = out.view(out.size(0), -1)
        return self.linear(out)


def DenseNet121():
    return DenseNet([6, 12, 24, 16], 32)


def DenseNet169():
    return DenseNet([6, 12, 32, 32], 32)


def DenseNet201():
    return DenseNet([6, 12, 48, 32], 32)


def DenseNet161():
    return DenseNet([6, 12, 36, 24], 48)


def densenet_cifar():
    return DenseNet([6, 12, 24, 16], 12)


class BottleneckBC(nn.Module):
    """DenseNet-BC layer (``densenet3.py``): one ReLU module used twice, input first in the cat."""

    def __init__(self, cin, growth, drop=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)
        self.drop = drop

    def forward(self, x):
        out = self.conv1(self.relu(self.bn1(x)))
        if self.drop > 0:
            out = F.dropout(out, p=self.drop, training=self.training)
        out = self.conv2(self.relu(self.bn2(out)))
        return torch.cat([x, out], 1)


class TransitionBC(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv1(self.relu(self.bn1(x))), 2)


class DenseBlockBC(nn.Module):
    def __init__(self, count, cin, growth):
        super().__init__()
        self.layer = nn.Sequential(*[BottleneckBC(cin + i * growth, growth) for i in range(count)])

    def forward(self, x):
        return self.layer(x)


class DenseNetBC(nn.Module):
    def __init__(self, depth=190, num_classes=10, growth=40):
        super().__init__()
        n = (depth - 4) // 6
        channels = 2 * growth
        self.conv1 = nn.Conv2d(3, channels, 3, padding=1, bias=False)
        self.block1 = DenseBlockBC(n, channels, growth)
        channels += n * growth
        self.trans1 = TransitionBC(channels, channels // 2)
        channels //= 2
        self.block2 = DenseBlockBC(n, channels, growth)
        channels += n * growth
        self.trans2 = TransitionBC(channels, channels // 2)
        channels //= 2
        self.block3 = DenseBlockBC(n, channels, growth)
        channels += n * growth
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(channels, num_classes)
        self.channels = channels

    def forward(self, x):
        out = self.conv1(x)
        out = self.trans1(self.block1(out))
        out = self.trans2(self.block2(out))
        out = self.block3(out)
        out = self.relu(self.bn1(out))
        out = F.avg_pool2d(out, 8)
        return self.fc(out.view(-1, self.channels))


def DenseNet190():
    return DenseNetBC(190, 10, growth=40)


def DenseNetBC40():
    return DenseNetBC(40, 10, growth=12)


VGG_LAYOUTS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    def __init__(self, depth):
        super().__init__()
        layers, cin = [], 3
        for item in VGG_LAYOUTS[depth]:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(cin, item, 3, padding=1), nn.BatchNorm2d(item), nn.ReLU(inplace=True)]
                cin = item
        layers.append(nn.AvgPool2d(kernel_size=1, stride=1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, 10)

    def forward(self, x):
        out = self.features(x)
        out = out.view(out.size(0), -1)
        return self.classifier(out)


def _cbr(cin, cout, kernel):
    return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.BatchNorm2d(cout), nn.ReLU(True)]


class Inception(nn.Module):
    def __init__(self, cin, n1, n3red, n3, n5red, n5, pool_planes):
        super().__init__()
        self.b1 = nn.Sequential(*_cbr(cin, n1, 1))
        self.b2 = nn.Sequential(*_cbr(cin, n3red, 1), *_cbr(n3red, n3, 3))
        self.b3 = nn.Sequential(*_cbr(cin, n5red, 1), *_cbr(n5red, n5, 3), *_cbr(n5, n5, 3))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *_cbr(cin, pool_planes, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GoogLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre_layers = nn.Sequential(*_cbr(3, 192, 3))
        self.a3 = Inception(192, 64, 96, 128, 16, 32, 32)
        self.b3 = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.a4 = Inception(480, 192, 96, 208, 16, 48, 64)
        self.b4 = Inception(512, 160, 112, 224, 24, 64, 64)
        self.c4 = Inception(512, 128, 128, 256, 24, 64, 64)
        self.d4 = Inception(512, 112, 144, 288, 32, 64, 64)
        self.e4 = Inception(528, 256, 160, 320, 32, 128, 128)
        self.a5 = Inception(832, 256, 160, 320, 32, 128, 128)
        self.b5 = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AvgPool2d(8, stride=1)
        self.linear = nn.Linear(1024, 10)

    def forward(self, x):
        out = self.b3(self.a3(self.pre_layers(x)))
        out = self.maxpool(out)  # the same pooling module, called twice
        out = self.e4(self.d4(self.c4(self.b4(self.a4(out)))))
        out = self.maxpool(out)
        out = self.avgpool(self.b5(self.a5(out)))
        return self.linear(out.view(out.size(0), -1))


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv2 = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)))


class MobileNet(nn.Module):
    layout = [64, (128, 2), 128, (256, 2), 256, (512, 2), 512, 512, 512, 512, 512, (1024, 2), 1024]

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        layers, cin = [], 32
        for item in self.layout:
            cout, stride = item if isinstance(item, tuple) else (item, 1)
            layers.append(DepthwiseSeparable(cin, cout, stride))
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(1024, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.avg_pool2d(self.layers(out), 2)
        return self.linear(out.view(out.size(0), -1))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.conv1(x)), 2)
        out = F.max_pool2d(F.relu(self.conv2(out)), 2)
        out = out.view(out.size(0), -1)
        out = F.relu(self.fc1(out))
        out = F.relu(self.fc2(out))
        return self.fc3(out)


# template name → reference constructor (every model of mixup-cifar10's models/)
REFERENCES = {
    "preact_resnet18": ResNet18, "preact_resnet18_identity": PreActResNet18Identity,
    "resnet34": ResNet34, "resnet50": ResNet50, "resnet101": ResNet101, "resnet152": ResNet152,
    "resnext29_2x64d": lambda: ResNeXt29(2, 64), "resnext29_4x64d": lambda: ResNeXt29(4, 64),
    "resnext29_8x64d": lambda: ResNeXt29(8, 64), "resnext29_32x4d": lambda: ResNeXt29(32, 4),
    "densenet121": DenseNet121, "densenet169": DenseNet169, "densenet201": DenseNet201,
    "densenet161": DenseNet161, "densenet_cifar": densenet_cifar, "densenet_bc190": DenseNet190,
    "vgg11": lambda: VGG(11), "vgg13": lambda: VGG(13), "vgg16": lambda: VGG(16), "vgg19": lambda: VGG(19),
    "googlenet": GoogLeNet, "mobilenet": MobileNet, "lenet": LeNet,
}
