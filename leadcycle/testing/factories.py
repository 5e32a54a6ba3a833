"""factory_boy factories for the core records."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from leadcycle.crm.models import Account, Contact, Interaction, Lead, Opportunity, Task


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-123")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.set([Group.objects.get(name=extracted)])  # type: ignore[attr-defined]


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Company {n}")
    web_domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Software"
    country = "Sweden"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    topic = factory.Sequence(lambda n: f"Interest {n}")
    parent_contact = factory.SubFactory(ContactFactory)
    parent_account = factory.LazyAttribute(
        lambda o: o.parent_contact.account if o.parent_contact else None
    )


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Deal {n}")
    value = 1000


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    subject = factory.Sequence(lambda n: f"Call {n}")
    queue = "telemarketing"


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    kind = Interaction.Kind.EMAIL_OPENED
    occurred_at = factory.LazyFunction(timezone.now)
    contact = factory.SubFactory(ContactFactory)
