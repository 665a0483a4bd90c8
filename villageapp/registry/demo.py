"""Demo households: generated names drawn from the demo's shared Faker and random streams, so the households of
every village stay as they were (villages are built in order)."""
from .data import add_household, add_resident

GROUPS = ["一组", "二组", "三组", "四组", "五组", "六组"]


def build(db, village, ctx):
    fake, rnd = ctx.fake, ctx.rnd
    for _ in range(ctx.households):
        surname = fake.last_name()
        head_male = rnd.random() < 0.85
        head = surname + (fake.first_name_male() if head_male else fake.first_name_female())
        group = rnd.choice(GROUPS[:rnd.randint(4, 6)])
        house = add_household(db, village["code"], group, head, ctx.actor, address=f"{group}{rnd.randint(1, 60)}号",
                              phone=f"1{rnd.choice('35789')}{rnd.randrange(10**9):09d}")
        born = rnd.randint(1948, 1985)
        members = [(head, "男" if head_male else "女", born, "户主")]
        if rnd.random() < 0.8:
            spouse_male = not head_male
            members.append((fake.last_name() + (fake.first_name_male() if spouse_male else fake.first_name_female()),
                            "男" if spouse_male else "女", born + rnd.randint(-4, 4), "配偶"))
        for _child in range(rnd.randint(0, 3)):
            male = rnd.random() < 0.5
            members.append((surname + (fake.first_name_male() if male else fake.first_name_female()),
                            "男" if male else "女", min(born + rnd.randint(20, 32), 2020), "子" if male else "女"))
        for name, gender, year, relation in members:
            add_resident(db, house["uuid"], name, ctx.actor, gender=gender, birth_year=year, relation=relation)
